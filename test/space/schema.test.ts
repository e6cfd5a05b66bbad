import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listPresets, loadSpace, parseSpace, SpaceError, spaceFromData } from '../../src/space/index.ts';

const FMNIST = `
input: { channels: 1, size: 28 }
classes: 10
activation: swish
se: 0.25
stem: { channels: 16, stride: 1 }
stages:
  - { type: ds, channels: 16 }
  - { channels: 24, stride: 2, layers: 4 }
  - { channels: 40, stride: 2, layers: 4 }
  - { channels: 80, stride: 1, layers: 4 }
  - { channels: 96, stride: 2, layers: 4 }
ops: [k3e4, k3e6, k5e4, k5e6, k7e4, k7e6]
skip: true
head: { channels: 320, features: 640 }
`;

/** The fmnist spec as plain mutable data, for breaking it in tests. */
interface SpecData {
  stages: Record<string, unknown>[];
  ops: string[];
  head: Record<string, unknown>;
  [key: string]: unknown;
}

function fmnistData(): SpecData {
  return structuredClone(loadSpace('fmnist').spec) as unknown as SpecData;
}

function expectError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SpaceError, `expected SpaceError, got ${e}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    return true;
  });
}

describe('space schema', () => {
  it('accepts the benchmark fmnist space as written', () => {
    const sp = parseSpace(FMNIST, 'fmnist-bench');
    assert.equal(sp.stages.length, 4);
    assert.deepEqual(sp.spec, loadSpace('fmnist').spec);
  });

  it('names the path of an unknown key', () => {
    const d = fmnistData();
    d.stages[2].chanels = 40;
    expectError(() => spaceFromData(d), /stages\[2\]\.chanels: unknown key/);
    const d2 = fmnistData();
    d2.head.dropuot = 0.1;
    d2.extra = 1;
    expectError(
      () => spaceFromData(d2),
      /head\.dropuot: unknown key.*extra: unknown key|extra: unknown key.*head\.dropuot/,
    );
  });

  it('rejects bad values with their paths', () => {
    const cases: [(d: SpecData) => void, RegExp][] = [
      [(d) => (d.stages[1].stride = 3), /stages\[1\]\.stride: stride must be 1 or 2/],
      [(d) => (d.stages[1].layers = 0), /stages\[1\]\.layers/],
      [(d) => (d.stages[0].type = 'dw'), /stages\[0\]\.type: stage type must be/],
      [(d) => d.ops.push('k9e6'), /ops\[6\]: op "k9e6": MBConv kernel must be one of 3, 5, 7/],
      [(d) => d.ops.push('skip'), /ops\[6\]: "skip" is not listed among ops; set `skip: true`/],
      [(d) => d.ops.push('k3e4'), /ops: ops must not repeat/],
      [(d) => d.ops.push('wat'), /unknown op "wat"/],
      [(d) => (d.activation = 'gelu'), /activation:/],
      [(d) => (d.classes = 1), /classes:/],
      [(d) => delete d.stem, /stem:/],
      [(d) => (d.stages[1].template = 'k3e5'), /stages\[1\]\.template: template "k3e5" is not among the stage's ops/],
      [(d) => (d.stages = [{ type: 'ds', channels: 16 }]), /stages: at least one searchable stage/],
    ];
    for (const [mutate, pattern] of cases) {
      const d = fmnistData();
      mutate(d);
      expectError(() => spaceFromData(d), pattern);
    }
  });

  it('reports YAML syntax errors and duplicate keys', () => {
    expectError(() => parseSpace('input: [1, 2', 'broken'), /broken: not valid YAML/);
    expectError(() => parseSpace('classes: 10\nclasses: 11\n', 'dup'), /dup: not valid YAML/);
  });

  it('loads every preset, by name and by path', () => {
    const names = listPresets();
    for (const n of ['imagenet', 'fmnist', 'imagenet+resblock', 'imagenet+conv', 'fmnist+resblock', 'fmnist+conv']) {
      assert.ok(names.includes(n), n);
      assert.equal(loadSpace(n).name, n);
    }
    const dir = mkdtempSync(join(tmpdir(), 'space-'));
    const file = join(dir, 'mine.yaml');
    writeFileSync(file, FMNIST);
    assert.equal(loadSpace(file).stages.length, 4);
    const json = join(dir, 'mine.json');
    writeFileSync(json, JSON.stringify(fmnistData()));
    assert.deepEqual(loadSpace(json).spec, loadSpace('fmnist').spec);
    expectError(() => loadSpace('imagenett'), /unknown space "imagenett": not a preset \(.*imagenet.*\) nor a file/);
    expectError(() => loadSpace(join(dir, 'missing.yaml')), /cannot read space file .*ENOENT/);
  });

  it('extra-op presets add their ops to every searchable stage', () => {
    assert.deepEqual(loadSpace('imagenet+resblock').stages[0].ops.slice(6), ['res_k3', 'res_k5']);
    assert.deepEqual(loadSpace('fmnist+conv').stages[3].ops.slice(6), ['conv3', 'conv5']);
  });
});

describe('resolved imagenet space', () => {
  const sp = loadSpace('imagenet');

  it('has the paper shapes', () => {
    assert.equal(sp.resolution, 224);
    assert.deepEqual(sp.stem, {
      inChannels: 3,
      outChannels: 16,
      kernel: 3,
      stride: 2,
      inputSize: 224,
      outputSize: 112,
    });
    assert.deepEqual(
      sp.stages.map((s) => [s.inChannels, s.outChannels, s.stride, s.layers, s.inputSize, s.outputSize]),
      [
        [16, 24, 2, 4, 112, 56],
        [24, 40, 2, 4, 56, 28],
        [40, 80, 2, 4, 28, 14],
        [80, 96, 1, 4, 14, 14],
        [96, 192, 2, 4, 14, 7],
      ],
    );
    const last = sp.body.at(-1);
    assert.ok(last?.kind === 'fixed');
    assert.deepEqual([last.block.kind, last.block.inChannels, last.block.outChannels], ['conv', 192, 320]);
    assert.equal(sp.head.classifierIn, 1280);
    assert.equal(sp.head.classes, 1000);
  });

  it('describes every layer explicitly', () => {
    const l0 = sp.stages[1].layerInfo[0];
    assert.deepEqual([l0.inChannels, l0.outChannels, l0.stride, l0.inputSize, l0.outputSize], [24, 40, 2, 56, 28]);
    assert.deepEqual(l0.candidateNames, ['k3e4', 'k3e6', 'k5e4', 'k5e6', 'k7e4', 'k7e6']);
    const l2 = sp.stages[1].layerInfo[2];
    assert.deepEqual([l2.inChannels, l2.outChannels, l2.stride, l2.inputSize], [40, 40, 1, 28]);
    assert.equal(l2.candidateNames.at(-1), 'skip');
    assert.deepEqual(l2.candidates[3], { kind: 'mbconv', name: 'k5e6', kernel: 5, expansion: 6 });
    assert.ok(Object.isFrozen(sp.stages[1].layerInfo));
  });

  it('fmnist follows 28 -> 28 -> 14 -> 7 -> 7 -> 4', () => {
    const f = loadSpace('fmnist');
    assert.equal(f.stem.outputSize, 28);
    assert.deepEqual(
      f.stages.map((s) => s.outputSize),
      [14, 7, 7, 4],
    );
    assert.deepEqual(
      [f.head.inChannels, f.head.convChannels, f.head.features, f.head.classifierIn],
      [96, 320, 640, 640],
    );
  });
});
