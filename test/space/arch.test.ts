import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalArch,
  exportOfficialArch,
  formatArch,
  formatArchCompact,
  importOfficialArch,
  loadSpace,
  Mulberry32,
  padArch,
  parseArch,
  SpaceError,
  sameNetwork,
  stripSkips,
  uniformArch,
} from '../../src/space/index.ts';
import { CREAM_287M, CREAM_481M } from './fixtures.ts';

const space = loadSpace('imagenet');

function expectError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof SpaceError && pattern.test(e.message));
}

describe('architectures', () => {
  it('round-trips JSON and compact forms', () => {
    const rng = new Mulberry32(7);
    for (let i = 0; i < 50; i++) {
      const arch = uniformArch(space, rng);
      assert.deepEqual(parseArch(space, formatArch(arch)), arch);
      assert.deepEqual(parseArch(space, formatArchCompact(arch)), arch);
    }
    assert.equal(formatArchCompact(CREAM_287M), 'k3e4/k5e6,k5e6/k5e6,k3e6,k5e6/k5e6,k5e6,k5e6,k5e6/k5e6,k5e6,k5e6');
    assert.deepEqual(
      parseArch(space, ' k3e4/k5e6, k5e6/k5e6,k3e6,k5e6/k5e6,k5e6,k5e6,k5e6/k5e6,k5e6,k5e6 '),
      CREAM_287M,
    );
    assert.deepEqual(parseArch(space, CREAM_481M, { allowDeeper: true }), CREAM_481M);
  });

  it('gives errors naming stage, layer, op and allowed ops', () => {
    expectError(() => parseArch(space, '[[1]]'), /arch: expected 5 stages .*got 1/);
    expectError(() => parseArch(space, '{"a":1}'), /arch: expected a list of stages/);
    expectError(() => parseArch(space, '[[x'), /arch: invalid JSON/);
    expectError(
      () => parseArch(space, [['k3e4'], ['skip'], ['k3e4'], ['k3e4'], ['k3e4']]),
      /arch stage 1 layer 0: the first layer of a stage cannot be skip/,
    );
    expectError(
      () => parseArch(space, [['k3e4'], ['k3e4', 'k9e9'], ['k3e4'], ['k3e4'], ['k3e4']]),
      /arch stage 1 layer 1: op "k9e9" is not allowed; allowed: k3e4, k3e6, k5e4, k5e6, k7e4, k7e6, skip/,
    );
    expectError(
      () => parseArch(space, [['res_k3'], ['k3e4'], ['k3e4'], ['k3e4'], ['k3e4']]),
      /arch stage 0 layer 0: op "res_k3" is not allowed; allowed: k3e4, k3e6, k5e4, k5e6, k7e4, k7e6$/,
    );
    expectError(() => parseArch(space, [[], ['k3e4'], ['k3e4'], ['k3e4'], ['k3e4']]), /arch stage 0: empty/);
    expectError(
      () => parseArch(space, [['k3e4'], ['k3e4', 3], ['k3e4'], ['k3e4'], ['k3e4']]),
      /stage 1 layer 1: expected an op name/,
    );
    expectError(() => parseArch(space, CREAM_481M), /arch stage 2: 5 layers but the space allows 4 .*allowDeeper/);
    assert.deepEqual(
      parseArch(loadSpace('imagenet+resblock'), [['res_k3'], ['k3e4'], ['k3e4'], ['k3e4'], ['k3e4']])[0],
      ['res_k3'],
    );
  });

  it('pads, strips and canonicalises skips', () => {
    const a = [['k3e4', 'skip', 'k5e6'], ['k5e6'], ['k5e6'], ['k5e6'], ['k5e6']];
    assert.deepEqual(stripSkips(a)[0], ['k3e4', 'k5e6']);
    assert.deepEqual(padArch(space, a)[1], ['k5e6', 'skip', 'skip', 'skip']);
    assert.deepEqual(canonicalArch(space, a)[0], ['k3e4', 'k5e6', 'skip', 'skip']);
    assert.ok(sameNetwork(space, a, [['k3e4', 'k5e6'], ['k5e6', 'skip'], ['k5e6'], ['k5e6'], ['k5e6']]));
    assert.ok(!sameNetwork(space, a, [['k3e4'], ['k5e6'], ['k5e6'], ['k5e6'], ['k5e6']]));
    assert.throws(() => padArch(space, CREAM_481M), /stage 2: 5 layers do not fit/);
  });
});

describe('official index form', () => {
  it('imports Cream-481M to the named form', () => {
    const official = [[0], [3, 4, 3, 1], [3, 2, 3, 0], [3, 3, 3, 1, 1], [3, 3, 3, 3], [3, 3, 3, 3], [0]];
    assert.deepEqual(importOfficialArch(space, official), CREAM_481M);
    assert.deepEqual(importOfficialArch(space, official.slice(1, -1)), CREAM_481M);
    assert.deepEqual(exportOfficialArch(space, CREAM_481M), official);
  });

  it('keeps the template op of one-layer stages (Cream-287M, 14M)', () => {
    assert.deepEqual(
      importOfficialArch(space, [[0], [3], [3, 3], [3, 1, 3], [3, 3, 3, 3], [3, 3, 3], [0]]),
      CREAM_287M,
    );
    assert.deepEqual(importOfficialArch(space, [[0], [3], [3, 3], [3, 3], [3], [3], [0]]), [
      ['k3e4'],
      ['k5e6', 'k5e6'],
      ['k5e6', 'k5e6'],
      ['k3e6'],
      ['k5e6'],
    ]);
    assert.deepEqual(exportOfficialArch(space, CREAM_287M)[1], [0]);
    expectError(
      () => exportOfficialArch(space, [['k7e6'], ['k5e6'], ['k5e6'], ['k5e6'], ['k5e6']]),
      /stage 0 has one layer "k7e6", but the official form can only express its template "k3e4"/,
    );
  });

  it('reads -1 as skip and checks indices and fixed slots', () => {
    const a = importOfficialArch(space, [[0], [3, -1], [3], [3], [3], [3], [0]]);
    assert.deepEqual(a[0], ['k5e6', 'skip']);
    expectError(
      () => importOfficialArch(space, [[0], [6, 1], [3], [3], [3], [3], [0]]),
      /stage 0 layer 0: index 6 out of range/,
    );
    expectError(
      () => importOfficialArch(space, [[1], [3, 1], [3], [3], [3], [3], [0]]),
      /entry 0: a fixed stage must be \[0\]/,
    );
    expectError(() => importOfficialArch(space, [[0], [3]]), /expected 7 stage lists .* or 5/);
    expectError(
      () => importOfficialArch(space, [[0], [-1, 3], [3], [3], [3], [3], [0]]),
      /first layer of a stage cannot be skip/,
    );
    // fmnist: ds + 4 stages + head conv = 6 slots, no templates
    assert.deepEqual(importOfficialArch(loadSpace('fmnist'), [[0], [0], [1, 1], [2], [5], [0]]), [
      ['k3e4'],
      ['k3e6', 'k3e6'],
      ['k5e4'],
      ['k7e6'],
    ]);
  });
});
