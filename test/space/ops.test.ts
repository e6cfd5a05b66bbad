import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convOutputSize, isOpName, makeDivisible, parseOp, SpaceError } from '../../src/space/index.ts';

describe('ops', () => {
  it('parses every op kind', () => {
    assert.deepEqual(parseOp('k5e6'), { kind: 'mbconv', name: 'k5e6', kernel: 5, expansion: 6 });
    assert.deepEqual(parseOp('k3e1'), { kind: 'mbconv', name: 'k3e1', kernel: 3, expansion: 1 });
    assert.deepEqual(parseOp('skip'), { kind: 'skip', name: 'skip' });
    assert.deepEqual(parseOp('res_k3'), { kind: 'resblock', name: 'res_k3', kernel: 3, reduction: 4 });
    assert.deepEqual(parseOp('conv5'), { kind: 'conv', name: 'conv5', kernel: 5 });
  });

  it('rejects malformed names with the accepted forms', () => {
    for (const bad of ['k4e6', 'k3e0', 'k3e06', 'k3e17', 'res_k4', 'conv2', 'conv03', 'K3E4', 'mb', '']) {
      assert.throws(() => parseOp(bad), SpaceError, bad);
      assert.equal(isOpName(bad), false);
    }
    assert.throws(() => parseOp('mb'), /unknown op "mb": expected k\{3,5,7\}e/);
  });

  it('rounds channels like timm', () => {
    assert.equal(makeDivisible(16 * 0.25), 8);
    assert.equal(makeDivisible(24 * 4), 96);
    assert.equal(makeDivisible(40 * 6 * 0.25), 64);
    assert.equal(makeDivisible(96 * 0.25), 24);
    assert.equal(makeDivisible(36), 40);
    assert.equal(makeDivisible(20), 24);
    assert.equal(makeDivisible(12), 16);
  });

  it('computes same-padding output sizes', () => {
    assert.equal(convOutputSize(224, 3, 2), 112);
    assert.equal(convOutputSize(7, 5, 2), 4);
    assert.equal(convOutputSize(7, 1, 2), 4);
    assert.equal(convOutputSize(14, 7, 1), 14);
  });
});
