import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CostTable,
  childCost,
  costTable,
  countCandidates,
  countNetworks,
  loadSpace,
  Mulberry32,
  spaceFromData,
  supernetParams,
  uniformArch,
} from '../../src/space/index.ts';
import { CREAM_287M, CREAM_481M } from './fixtures.ts';

const imagenet = loadSpace('imagenet');

describe('counting', () => {
  it('counts candidates', () => {
    assert.equal(countCandidates(imagenet), 2058n ** 5n);
    assert.equal(countCandidates(loadSpace('fmnist')), 2058n ** 4n);
    assert.equal(countCandidates(loadSpace('imagenet+resblock')), (8n * 9n ** 3n) ** 5n);
    assert.equal(countCandidates(loadSpace('fmnist+conv')), (8n * 9n ** 3n) ** 4n);
    assert.equal(countNetworks(imagenet), (6n + 36n + 216n + 1296n) ** 5n);
  });
});

describe('MACs and params (thop 2020 conventions)', () => {
  it('Cream-287M: 287,195,240 MACs, 6,044,368 params', () => {
    assert.deepEqual(childCost(imagenet, CREAM_287M), { macs: 287_195_240, params: 6_044_368 });
  });

  it('Cream-481M: 481,598,712 MACs, 7,713,360 params', () => {
    assert.deepEqual(childCost(imagenet, CREAM_481M), { macs: 481_598_712, params: 7_713_360 });
  });

  it('imagenet supernet: 28,841,912 params', () => {
    assert.equal(supernetParams(imagenet), 28_841_912);
  });

  it('matches the official supernet count 29,809,073 with its two extras', () => {
    // The official c80 stage builds a 5th (never used) layer, and the supernet holds Linear(4000, 1).
    const spec = structuredClone(imagenet.spec) as { stages: { layers?: number }[] };
    spec.stages[3].layers = 5;
    assert.equal(supernetParams(spaceFromData(spec)) + 4000 + 1, 29_809_073);
  });

  it('skip layers cost nothing; resolution changes MACs, not params', () => {
    const padded = CREAM_287M.map((s) => [...s, ...Array(4 - s.length).fill('skip')]);
    assert.deepEqual(childCost(imagenet, padded), childCost(imagenet, CREAM_287M));
    const at160 = childCost(imagenet, CREAM_287M, 160);
    assert.equal(at160.params, 6_044_368);
    assert.ok(at160.macs < 287_195_240 * 0.6 && at160.macs > 287_195_240 * 0.4);
    assert.deepEqual(costTable(imagenet, 160).pathCost(CREAM_287M), at160);
  });

  it('the cost table equals the block-by-block count on random paths, all presets', () => {
    const rng = new Mulberry32(1234);
    for (const name of ['imagenet', 'fmnist', 'imagenet+resblock', 'imagenet+conv', 'fmnist+resblock', 'fmnist+conv']) {
      const space = loadSpace(name);
      const table = new CostTable(space);
      for (let i = 0; i < 200; i++) {
        const arch = uniformArch(space, rng);
        assert.deepEqual(table.pathCost(arch), childCost(space, arch), `${name} ${JSON.stringify(arch)}`);
      }
      // deeper-than-supernet child networks too
      const deep = space.stages.map((s) => Array(s.layers + 2).fill(s.ops[0]));
      assert.deepEqual(table.pathCost(deep), childCost(space, deep));
    }
  });

  it('the table prices layers and rejects ops that are not allowed', () => {
    const t = costTable(imagenet);
    assert.equal(t.layerCost(1, 2, 'skip').macs, 0);
    assert.ok(t.layerCost(1, 9, 'k5e6').macs === t.layerCost(1, 1, 'k5e6').macs);
    assert.throws(
      () => t.pathCost([['skip'], ['k3e4'], ['k3e4'], ['k3e4'], ['k3e4']]),
      /stage 0 layer 0: op "skip" is not allowed/,
    );
    assert.throws(() => t.pathCost([['k3e4'], ['k3e4', 'conv3']]), /expected 5 stages/);
  });

  it('the exact MACs range is the all-smallest and all-largest paths', () => {
    const t = costTable(imagenet);
    const { min, max } = t.macsRange();
    const smallest = imagenet.stages.map(() => ['k3e4']);
    const largest = imagenet.stages.map((s) => Array(s.layers).fill('k7e6'));
    assert.equal(min, t.pathMacs(smallest));
    assert.equal(max, t.pathMacs(largest));
    const rng = new Mulberry32(5);
    for (let i = 0; i < 1000; i++) {
      const m = t.pathMacs(uniformArch(imagenet, rng));
      assert.ok(m >= min && m <= max);
    }
  });

  it('path costing is fast enough to sum 100k paths (timing is in the benchmark, not asserted)', () => {
    const rng = new Mulberry32(99);
    const paths = Array.from({ length: 1000 }, () => uniformArch(imagenet, rng));
    const t = costTable(imagenet);
    let total = 0;
    for (let rep = 0; rep < 100; rep++) for (const p of paths) total += t.pathMacs(p);
    let expected = 0;
    for (const p of paths) expected += childCost(imagenet, p).macs;
    assert.equal(total, expected * 100);
  });
});
