// native.pointwiseAct (the inference path's fused 1x1 conv + bias + activation) against a plain
// float64 reference, over register-tile tails (rows not a multiple of 6, channels not of 16 or 8).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { native } from '../../src/tensor/index.ts';
import { testRandom } from '../helpers/gradcheck.ts';

const ACTS: [string, (z: number) => number][] = [
  ['none', (z) => z],
  ['relu', (z) => Math.max(0, z)],
  ['relu6', (z) => Math.min(6, Math.max(0, z))],
  ['swish', (z) => z / (1 + Math.exp(-z))],
  ['sigmoid', (z) => 1 / (1 + Math.exp(-z))],
  ['hardSigmoid', (z) => Math.min(1, Math.max(0, (z + 3) / 6))],
];

function reference(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  act: (z: number) => number,
) {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let z = b[j];
      for (let p = 0; p < k; p++) z += x[i * k + p] * w[p * n + j];
      y[i * n + j] = act(z);
    }
  }
  return y;
}

test('pointwiseAct matches a float64 reference for every activation and tile tail', () => {
  const rand = testRandom(4);
  const fill = (len: number, scale: number) => Float32Array.from({ length: len }, () => (rand() * 2 - 1) * scale);
  for (const [m, k, n] of [
    [1, 16, 64],
    [7, 3, 20],
    [13, 40, 37],
    [784, 16, 24],
    [49, 80, 320],
  ]) {
    const x = fill(m * k, 2);
    const w = fill(k * n, 1 / Math.sqrt(k));
    const b = fill(n, 1);
    ACTS.forEach(([name, act], code) => {
      const y = new Float32Array(m * n);
      native.pointwiseAct(x, w, b, y, m, k, n, code);
      const want = reference(x, w, b, m, k, n, act);
      let worst = 0;
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - want[i]) / (1 + Math.abs(want[i])));
      assert.ok(worst < 1e-5, `[${m}, ${k}] x [${k}, ${n}] ${name}: relative error ${worst}`);
    });
  }
});

test('pointwiseAct names a wrong-sized argument and an unknown activation', () => {
  const x = new Float32Array(6);
  const w = new Float32Array(12);
  const b = new Float32Array(4);
  assert.throws(
    () => native.pointwiseAct(x, w, b, new Float32Array(7), 2, 3, 4, 0),
    /pointwiseAct: y has 7 elements, expected 8/,
  );
  assert.throws(
    () => native.pointwiseAct(x, w, new Float32Array(3), new Float32Array(8), 2, 3, 4, 0),
    /pointwiseAct: bias has 3/,
  );
  assert.throws(
    () => native.pointwiseAct(x, w, b, new Float32Array(8), 2, 3, 4, 9),
    /pointwiseAct: unknown activation code 9/,
  );
});
