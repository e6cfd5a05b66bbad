import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BatchNormActivation,
  backward,
  batchNorm,
  getThreads,
  noGrad,
  setThreads,
  Tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { assertClose, load, readTorchFixture } from '../helpers/torch-fixture.ts';

const fixtures = readTorchFixture('norm_act.json');

const ACTS: BatchNormActivation[] = ['none', 'relu', 'relu6', 'swish'];

/** Double-precision reference of training-mode batch-norm + act forward and backward. */
function reference(x: Float32Array, gy: Float32Array, C: number, gamma: Float32Array, beta: Float32Array) {
  const rows = x.length / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let i = 0; i < x.length; i++) mean[i % C] += x[i] / rows;
  for (let i = 0; i < x.length; i++) variance[i % C] += (x[i] - mean[i % C]) ** 2 / rows;
  const invstd = variance.map((v) => 1 / Math.sqrt(v + 1e-5));
  const y = new Float64Array(x.length);
  const dz = new Float64Array(x.length);
  const sdz = new Float64Array(C);
  const sdzx = new Float64Array(C);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    const xhat = (x[i] - mean[c]) * invstd[c];
    const z = xhat * gamma[c] + beta[c];
    const s = 1 / (1 + Math.exp(-z));
    y[i] = z * s;
    dz[i] = gy[i] * s * (1 + z * (1 - s));
    sdz[c] += dz[i];
    sdzx[c] += dz[i] * xhat;
  }
  const gx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    const xhat = (x[i] - mean[c]) * invstd[c];
    gx[i] = gamma[c] * invstd[c] * (dz[i] - sdz[c] / rows - (xhat * sdzx[c]) / rows);
  }
  return { y, gx, ggamma: sdzx, gbeta: sdz, mean, variance };
}

function maxRelErr(a: Float32Array, e: Float64Array, floor: number): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]) / Math.max(floor, Math.abs(e[i])));
  return worst;
}

describe('batchNorm', () => {
  for (const [name, c] of Object.entries(fixtures).filter(([n]) => n.startsWith('bn_'))) {
    test(`matches PyTorch: ${name}`, () => {
      const training = name.startsWith('bn_train');
      const act = name.slice(name.lastIndexOf('_') + 1) as BatchNormActivation;
      const x = load(c.x);
      const gamma = load(c.gamma);
      const beta = load(c.beta);
      const runningMean = load(c.runningMean);
      const runningVar = load(c.runningVar);
      for (const t of [x, gamma, beta]) t.requiresGrad = true;
      tidy(() => {
        const y = batchNorm(x, gamma, beta, runningMean, runningVar, { training, act });
        assertClose(y, c.y, 1e-4, 1e-4, 'y');
        backward(y, load(c.gy));
      });
      assertClose(x.grad!, c.gx, 2e-4, 2e-4, 'gx');
      assertClose(gamma.grad!, c.ggamma, 2e-4, 2e-4, 'ggamma');
      assertClose(beta.grad!, c.gbeta, 2e-4, 2e-4, 'gbeta');
      // Training updates the running stats (momentum 0.1, unbiased variance); inference does not.
      assertClose(runningMean, c.runningMeanAfter, 1e-6, 1e-6, 'runningMean');
      assertClose(runningVar, c.runningVarAfter, 1e-6, 1e-6, 'runningVar');
    });
  }

  test('running statistics: momentum 0.1 and the unbiased variance, as PyTorch', () => {
    // One channel, values 1..4: mean 2.5, biased var 1.25, unbiased 5/3.
    const x = Tensor.from([1, 2, 3, 4], [4, 1]);
    const rm = Tensor.from([1]);
    const rv = Tensor.from([2]);
    const y = noGrad(() => batchNorm(x, Tensor.from([1]), Tensor.from([0]), rm, rv, { training: true }));
    assert.ok(Math.abs(rm.item() - (0.9 * 1 + 0.1 * 2.5)) < 1e-6);
    assert.ok(Math.abs(rv.item() - (0.9 * 2 + 0.1 * (5 / 3))) < 1e-6);
    const inv = 1 / Math.sqrt(1.25 + 1e-5);
    y.toArray().forEach((v, i) => {
      assert.ok(Math.abs(v - (i + 1 - 2.5) * inv) < 1e-5);
    });
    const m2 = noGrad(() =>
      batchNorm(x, Tensor.from([1]), Tensor.from([0]), rm, rv, { training: true, momentum: 0.5, eps: 1e-3 }),
    );
    assert.ok(Math.abs(rm.item() - (0.5 * 1.15 + 0.5 * 2.5)) < 1e-6);
    assert.ok(Math.abs(m2.f32[0] - -1.5 / Math.sqrt(1.25 + 1e-3)) < 1e-5);
  });

  for (const act of ACTS) {
    test(`gradients match finite differences: training, act ${act}`, () => {
      // Finite differences are wrong where a step moves some z = bn(x) across a relu/relu6 kink, and
      // every step (x through the batch statistics, beta through the whole channel) moves many z.
      // So take the first seeded data whose z keep a margin of 0.01 from the kinks, and step 3e-3.
      const kinks = act === 'relu' ? [0] : act === 'relu6' ? [0, 6] : [];
      for (let seed = 131; ; seed++) {
        const rand = testRandom(seed);
        const x = randomTensor([2, 2, 3, 7], rand);
        const gamma = randomTensor([7], rand, act === 'relu6' ? 1 : 0.5, act === 'relu6' ? 4 : 1.5);
        const beta = randomTensor([7], rand, -0.5, 0.5);
        const rm = Tensor.zeros([7]);
        const rv = Tensor.full([7], 1);
        const z = noGrad(() => batchNorm(x, gamma, beta, rm, rv, { training: true }));
        if (z.toArray().some((v) => kinks.some((k) => Math.abs(v - k) < 0.01))) continue;
        if (act === 'relu6') assert.ok(z.toArray().some((v) => v > 6));
        gradCheck(([xi, g, b]) => batchNorm(xi, g, b, rm, rv, { training: true, act }), [x, gamma, beta], {
          eps: kinks.length > 0 ? 3e-3 : 1e-2,
          tolerance: 2e-2,
        });
        break;
      }
    });

    test(`gradients match finite differences: inference, act ${act}`, () => {
      const rand = testRandom(41 + act.length);
      const x = randomTensor([2, 3, 2, 9], rand, -2, 2);
      const gamma = randomTensor([9], rand, 0.5, 1.5);
      const beta = randomTensor([9], rand, -0.5, 0.5);
      const rm = randomTensor([9], rand, -0.3, 0.3);
      const rv = randomTensor([9], rand, 0.5, 1.5);
      gradCheck(([xi, g, b]) => batchNorm(xi, g, b, rm, rv, { training: false, act }), [x, gamma, beta], {
        eps: 1e-3,
        tolerance: 2e-2,
      });
    });
  }

  test('gradients match finite differences for [N, C] input (batch-norm 1d)', () => {
    const rand = testRandom(51);
    const x = randomTensor([7, 13], rand);
    const gamma = randomTensor([13], rand, 0.5, 1.5);
    const beta = randomTensor([13], rand, -0.5, 0.5);
    const rm = Tensor.zeros([13]);
    const rv = Tensor.full([13], 1);
    gradCheck(([xi, g, b]) => batchNorm(xi, g, b, rm, rv, { training: true, act: 'swish' }), [x, gamma, beta], {
      eps: 1e-2,
      tolerance: 5e-2,
    });
  });

  test('large tensors (chunked, float runs flushed to double) match a float64 reference, at any thread count', () => {
    const rand = testRandom(61);
    const C = 40;
    // |mean| >> std: the shifted-data variance must not cancel.
    const x = randomTensor([8, 16, 16, C], rand, 99, 101);
    const gy = randomTensor([8, 16, 16, C], rand);
    const gamma = randomTensor([C], rand, 0.5, 1.5);
    const beta = randomTensor([C], rand, -0.5, 0.5);
    const ref = reference(x.f32, gy.f32, C, gamma.f32, beta.f32);
    const threads = getThreads();
    const runs: number[][] = [];
    for (const n of [1, threads]) {
      setThreads(n);
      const xi = x.clone();
      const g = gamma.clone();
      const b = beta.clone();
      for (const t of [xi, g, b]) t.requiresGrad = true;
      const rm = Tensor.zeros([C]);
      const rv = Tensor.zeros([C]);
      tidy(() => {
        const y = batchNorm(xi, g, b, rm, rv, { training: true, act: 'swish', momentum: 1 });
        assert.ok(maxRelErr(y.f32, ref.y, 1) < 2e-4, `y (${n} threads)`);
        runs.push(y.toArray());
        backward(y, gy);
      });
      runs.push(xi.grad!.toArray(), g.grad!.toArray(), rm.toArray(), rv.toArray());
      assert.ok(maxRelErr(rm.f32, ref.mean, 1) < 1e-6, `mean (${n} threads)`);
      const unbiased = ref.variance.map((v) => (v * x.size) / C / (x.size / C - 1));
      assert.ok(maxRelErr(rv.f32, unbiased, 1e-3) < 1e-3, `variance (${n} threads)`);
      assert.ok(maxRelErr(xi.grad!.f32, ref.gx, 1e-2) < 2e-3, `gx (${n} threads)`);
      assert.ok(maxRelErr(g.grad!.f32, ref.ggamma, 1) < 1e-3, `ggamma (${n} threads)`);
      assert.ok(maxRelErr(b.grad!.f32, ref.gbeta, 1) < 1e-3, `gbeta (${n} threads)`);
    }
    setThreads(threads);
    // Partial sums are per chunk of rows, combined in order: identical for any thread count.
    assert.deepEqual(runs.slice(0, 5), runs.slice(5));
  });

  test('inference without gradients records nothing and leaves running stats alone', () => {
    const rand = testRandom(71);
    const x = randomTensor([2, 2, 2, 3], rand);
    const rm = Tensor.from([0.1, 0.2, 0.3]);
    const rv = Tensor.from([1, 2, 3]);
    const y = batchNorm(x, Tensor.full([3], 1), Tensor.zeros([3]), rm, rv, { training: false, act: 'relu6' });
    assert.equal(y.node, null);
    assert.deepEqual(
      rm.toArray().map((v) => +v.toFixed(6)),
      [0.1, 0.2, 0.3],
    );
    assert.deepEqual(rv.toArray(), [1, 2, 3]);
    y.toArray().forEach((v, i) => {
      const c = i % 3;
      const expected = Math.min(6, Math.max(0, (x.f32[i] - rm.f32[c]) / Math.sqrt(rv.f32[c] + 1e-5)));
      assert.ok(Math.abs(v - expected) < 1e-5);
    });
  });

  test('errors name the argument and the shapes', () => {
    const x = Tensor.zeros([2, 3, 3, 4]);
    const c4 = () => Tensor.zeros([4]);
    assert.throws(
      () => batchNorm(x, Tensor.zeros([3]), c4(), c4(), c4(), { training: true }),
      /batchNorm: gamma \(for x \[2, 3, 3, 4\]\) must have shape \[4\], got \[3\]/,
    );
    assert.throws(
      () => batchNorm(x, c4(), c4(), c4(), Tensor.zeros([5]), { training: true }),
      /batchNorm: runningVar .* must have shape \[4\], got \[5\]/,
    );
    assert.throws(
      () => batchNorm(Tensor.zeros([2, 3, 4]), c4(), c4(), c4(), c4(), { training: true }),
      /batchNorm: x must be \[N, H, W, C\] or \[N, C\], got shape \[2, 3, 4\]/,
    );
    assert.throws(
      () => batchNorm(Tensor.zeros([1, 4]), c4(), c4(), c4(), c4(), { training: true }),
      /more than one value per channel/,
    );
    assert.throws(
      () => batchNorm(x, c4(), c4(), c4(), c4(), { training: true, act: 'sigmoid' as BatchNormActivation }),
      /act must be 'none', 'relu', 'relu6' or 'swish', got 'sigmoid'/,
    );
    assert.throws(() => batchNorm(x, c4(), c4(), c4(), c4(), { training: true, momentum: 2 }), /momentum/);
  });
});
