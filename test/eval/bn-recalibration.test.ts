// BN re-calibration recomputes running statistics as the exact average over the given batches and
// touches no weight.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Batch } from '../../src/data/index.ts';
import { batchNorms, recalibrateBatchNorm } from '../../src/eval/bn-recalibration.ts';
import { ChildNetwork } from '../../src/models/index.ts';
import { BatchNorm2d, InitRandom } from '../../src/nn/index.ts';
import { testRandom } from '../helpers/gradcheck.ts';
import { tinySpace } from '../helpers/tiny-space.ts';

function randomBatch(size: number, hw: number, channels: number, rand: () => number, offset = 0): Batch {
  const images = new Float32Array(size * hw * hw * channels);
  for (let i = 0; i < images.length; i++) images[i] = offset + 2 * rand() - 1;
  return { images, labels: new Int32Array(size), size, height: hw, width: hw, channels };
}

const snapshot = (entries: Iterable<[string, { f32: Float32Array }]>) =>
  new Map([...entries].map(([n, t]) => [n, t.f32.slice()]));

describe('BN re-calibration', () => {
  test('running statistics become the average of the batch statistics (momentum 1/(k+1))', () => {
    const bn = new BatchNorm2d(3);
    bn.runningMean.f32.set([5, 5, 5]);
    bn.runningVar.f32.set([9, 9, 9]);
    bn.weight.f32.set([1.5, 0.5, 2]);
    const rand = testRandom(7);
    const batches = [randomBatch(4, 2, 3, rand, 1), randomBatch(4, 2, 3, rand, -2)];
    // Per channel: mean and unbiased variance of each batch's 16 values, then their plain average.
    const expectMean = [0, 0, 0];
    const expectVar = [0, 0, 0];
    for (const b of batches) {
      for (let c = 0; c < 3; c++) {
        const v: number[] = [];
        for (let i = c; i < b.images.length; i += 3) v.push(b.images[i]);
        const m = v.reduce((s, x) => s + x, 0) / v.length;
        const u = v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1);
        expectMean[c] += m / batches.length;
        expectVar[c] += u / batches.length;
      }
    }
    let mode: boolean | null = null;
    const used = recalibrateBatchNorm(
      [bn],
      (t) => {
        mode = t;
        bn.train(t);
      },
      (x) => bn.forward(x),
      batches,
    );
    assert.equal(used, 2);
    assert.equal(mode, false, 'the network is left in eval mode');
    assert.equal(bn.momentum, 0.1, 'momentum restored');
    for (let c = 0; c < 3; c++) {
      assert.ok(
        Math.abs(bn.runningMean.f32[c] - expectMean[c]) < 1e-5,
        `mean ${c}: ${bn.runningMean.f32[c]} vs ${expectMean[c]}`,
      );
      assert.ok(
        Math.abs(bn.runningVar.f32[c] - expectVar[c]) < 1e-5,
        `var ${c}: ${bn.runningVar.f32[c]} vs ${expectVar[c]}`,
      );
    }
    assert.deepEqual([...bn.weight.f32], [1.5, 0.5, 2]);
    bn.dispose();
  });

  test('on a child network: every running statistic changes, no parameter does', () => {
    const space = tinySpace();
    const net = new ChildNetwork(space, [['k3e4', 'k5e2'], ['k3e2']], new InitRandom(3)).eval();
    const rand = testRandom(11);
    const batches = [randomBatch(6, 8, 1, rand, 0.5), randomBatch(6, 8, 1, rand, 0.5)];
    const params = snapshot(net.namedParameters());
    const buffers = snapshot(net.namedBuffers());
    assert.ok(buffers.size > 0);
    recalibrateBatchNorm(
      [net],
      (t) => net.train(t),
      (x) => net.forward(x),
      batches,
    );
    for (const [name, p] of net.namedParameters()) assert.deepEqual(p.f32, params.get(name), `${name} changed`);
    for (const [name, b] of net.namedBuffers()) {
      assert.notDeepEqual(b.f32, buffers.get(name), `${name} was not re-estimated`);
    }
    assert.equal(batchNorms([net]).length, [...net.namedBuffers()].length / 2, 'two buffers per BN');
    assert.equal(net.training, false);
    net.dispose();
  });

  test('no batches is an error', () => {
    const bn = new BatchNorm2d(2);
    assert.throws(
      () =>
        recalibrateBatchNorm(
          [bn],
          (t) => bn.train(t),
          (x) => bn.forward(x),
          [],
        ),
      /no batches/,
    );
    bn.dispose();
  });
});
