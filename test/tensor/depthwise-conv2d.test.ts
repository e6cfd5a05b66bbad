import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { backward, depthwiseConv2d, native, Tensor, tidy } from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';

interface FixtureTensor {
  shape: number[];
  data: number[];
}
type Fixture = Record<string, Record<string, FixtureTensor>>;

const fixtures = JSON.parse(
  readFileSync(new URL('../fixtures/torch/depthwise.json', import.meta.url), 'utf8'),
) as Fixture;

function load(t: FixtureTensor): Tensor {
  return Tensor.from(t.data, t.shape);
}

/** |a - b| <= abs + rel * |b| elementwise. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, abs: number, rel: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(
      err <= abs + rel * Math.abs(expected[i]),
      `${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (|diff| ${err.toExponential(2)})`,
    );
  }
}

interface Geometry {
  N: number;
  H: number;
  W: number;
  C: number;
  KH: number;
  KW: number;
  s: number;
  pH: number;
  pW: number;
  Ho: number;
  Wo: number;
}

function geometry(N: number, H: number, W: number, C: number, KH: number, KW: number, s: number, pH: number, pW = pH) {
  const Ho = Math.floor((H + 2 * pH - KH) / s) + 1;
  const Wo = Math.floor((W + 2 * pW - KW) / s) + 1;
  return { N, H, W, C, KH, KW, s, pH, pW, Ho, Wo } satisfies Geometry;
}

/**
 * The definition, in float64: y = x (*) w, and both gradients for an upstream gradient gy, as
 * plain loops over every (output pixel, tap) pair. What the kernels are checked against.
 */
function reference(g: Geometry, x: Float32Array, w: Float32Array, gy: Float32Array) {
  const { N, H, W, C, KH, KW, s, pH, pW, Ho, Wo } = g;
  const y = new Float64Array(N * Ho * Wo * C);
  const gx = new Float64Array(N * H * W * C);
  const gw = new Float64Array(KH * KW * C);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++)
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * s - pH + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * s - pW + kw;
            if (iw < 0 || iw >= W) continue;
            const yi = ((n * Ho + oh) * Wo + ow) * C;
            const xi = ((n * H + ih) * W + iw) * C;
            const wi = (kh * KW + kw) * C;
            for (let c = 0; c < C; c++) {
              y[yi + c] += x[xi + c] * w[wi + c];
              gx[xi + c] += gy[yi + c] * w[wi + c];
              gw[wi + c] += gy[yi + c] * x[xi + c];
            }
          }
        }
  return { y, gx, gw };
}

/**
 * Runs the native kernels with outputs pre-filled with NaN (every element must be written): the
 * forward, each gradient alone, and both gradients in one pass (gx2, gw2).
 */
function runKernels(g: Geometry, x: Float32Array, w: Float32Array, gy: Float32Array) {
  const args = [g.N, g.H, g.W, g.C, g.KH, g.KW, g.s, g.pH, g.pW];
  const y = new Float32Array(g.N * g.Ho * g.Wo * g.C).fill(Number.NaN);
  const gx = new Float32Array(g.N * g.H * g.W * g.C).fill(Number.NaN);
  const gw = new Float32Array(g.KH * g.KW * g.C).fill(Number.NaN);
  const gx2 = gx.slice();
  const gw2 = gw.slice();
  native.depthwiseForward(x, w, y, ...args);
  native.depthwiseBackwardInput(gy, w, gx, ...args);
  native.depthwiseBackwardWeight(x, gy, gw, ...args);
  native.depthwiseBackward(x, gy, w, gx2, gw2, ...args);
  return { y, gx, gw, gx2, gw2 };
}

function randomArray(n: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
  return a;
}

function checkAgainstReference(g: Geometry, rand: () => number, label: string) {
  const x = randomArray(g.N * g.H * g.W * g.C, rand);
  const w = randomArray(g.KH * g.KW * g.C, rand);
  const gy = randomArray(g.N * g.Ho * g.Wo * g.C, rand);
  const ref = reference(g, x, w, gy);
  const got = runKernels(g, x, w, gy);
  // float32 accumulation over at most N * Ho * Wo * KH * KW terms of size <= 1.
  assertClose(got.y, ref.y, 1e-5, 1e-5, `${label} y`);
  assertClose(got.gx, ref.gx, 1e-5, 1e-5, `${label} gx`);
  assertClose(got.gw, ref.gw, 1e-4, 1e-5, `${label} gw`);
  assertClose(got.gx2, ref.gx, 1e-5, 1e-5, `${label} gx (both gradients at once)`);
  assertClose(got.gw2, ref.gw, 1e-4, 1e-5, `${label} gw (both gradients at once)`);
}

describe('depthwiseConv2d', () => {
  after(() => native.depthwiseForceScalar(false));

  // Each geometry runs on the vector path (when this CPU has AVX2) and on the portable scalar path.
  for (const impl of ['auto', 'scalar'] as const) {
    test(`kernels match the definition (${impl} path)`, () => {
      assert.match(
        String(native.depthwiseForceScalar(impl === 'scalar')),
        impl === 'scalar' ? /^scalar$/ : /^(avx2|scalar)$/,
      );
      const rand = testRandom(impl === 'auto' ? 11 : 12);
      let cases = 0;
      for (const s of [1, 2])
        for (const k of [1, 3, 5, 7])
          for (const C of [1, 7, 8, 13, 16, 24, 40])
            for (const [H, W] of [
              [1, 1],
              [5, 5],
              [7, 9],
              [4, 17],
            ])
              for (const p of [0, k >> 1, k]) {
                if (H + 2 * p < k || W + 2 * p < k) continue;
                const g = geometry(1 + (cases % 3), H, W, C, k, k, s, p);
                checkAgainstReference(g, rand, `${impl} s${s} k${k} C${C} ${H}x${W} p${p}`);
                cases++;
              }
      assert.ok(cases > 300);
    });
  }

  test('kernels match the definition for even, rectangular and wide (scalar fallback) kernels', () => {
    const rand = testRandom(13);
    const shapes: [number, number, number, number, number][] = [
      // KH, KW, stride, padH, padW
      [2, 2, 1, 0, 0],
      [4, 4, 2, 2, 2],
      [6, 6, 1, 3, 3],
      [3, 5, 2, 1, 2],
      [7, 1, 1, 3, 0],
      [1, 7, 2, 0, 3],
      [9, 9, 1, 4, 4],
      [11, 11, 2, 5, 5],
      [3, 3, 3, 1, 1],
    ];
    for (const [KH, KW, s, pH, pW] of shapes) {
      const g = geometry(2, 9, 11, 21, KH, KW, s, pH, pW);
      checkAgainstReference(g, rand, `${KH}x${KW} s${s} p${pH}/${pW}`);
    }
  });

  // Large enough for the kernels to use every thread (small problems run on one).
  test('vector and scalar paths agree at larger, multi-threaded shapes', () => {
    const rand = testRandom(14);
    const shapes: [number, number, number, number, number, number][] = [
      // N, H, W, C, k, stride
      [4, 14, 14, 72, 3, 2],
      [4, 14, 14, 72, 5, 1],
      [4, 14, 14, 72, 7, 1],
      [8, 15, 13, 37, 5, 2],
      [8, 17, 11, 29, 3, 1],
      [1, 28, 28, 40, 7, 2],
    ];
    for (const [N, H, W, C, k, s] of shapes) {
      const g = geometry(N, H, W, C, k, k, s, k >> 1);
      const x = randomArray(g.N * g.H * g.W * g.C, rand);
      const w = randomArray(g.KH * g.KW * g.C, rand);
      const gy = randomArray(g.N * g.Ho * g.Wo * g.C, rand);
      native.depthwiseForceScalar(true);
      const slow = runKernels(g, x, w, gy);
      native.depthwiseForceScalar(false);
      const fast = runKernels(g, x, w, gy);
      const label = `[${N}, ${H}, ${W}, ${C}] k${k} s${s}`;
      assertClose(fast.y, slow.y, 1e-5, 1e-5, `${label} y`);
      assertClose(fast.gx, slow.gx, 1e-5, 1e-5, `${label} gx`);
      assertClose(fast.gw, slow.gw, 1e-4, 1e-5, `${label} gw`);
      assertClose(fast.gx2, slow.gx, 1e-5, 1e-5, `${label} gx (both at once)`);
      assertClose(fast.gw2, slow.gw, 1e-4, 1e-5, `${label} gw (both at once)`);
    }
  });

  test('gradients repeat bit for bit (partial sums do not depend on thread timing)', () => {
    const rand = testRandom(15);
    const g = geometry(16, 14, 14, 40, 5, 5, 1, 2);
    const x = randomArray(g.N * g.H * g.W * g.C, rand);
    const w = randomArray(g.KH * g.KW * g.C, rand);
    const gy = randomArray(g.N * g.Ho * g.Wo * g.C, rand);
    const first = runKernels(g, x, w, gy);
    for (let i = 0; i < 5; i++) {
      const again = runKernels(g, x, w, gy);
      for (const key of ['gw', 'gw2', 'gx2'] as const) assert.deepEqual(again[key], first[key], key);
    }
  });

  for (const [k, stride] of [
    [3, 1],
    [3, 2],
    [5, 1],
    [5, 2],
    [7, 1],
    [7, 2],
  ] as const) {
    test(`gradients match finite differences (k${k}, stride ${stride}, odd sizes, C = 11)`, () => {
      const rand = testRandom(100 + 10 * k + stride);
      const x = randomTensor([2, 9, 7, 11], rand);
      const w = randomTensor([k, k, 11], rand);
      gradCheck(([a, b]) => depthwiseConv2d(a, b, { stride }), [x, w], { eps: 1e-2, tolerance: 1e-2, samples: 48 });
    });
  }

  test('gradients match finite differences with explicit padding (k5, stride 2, padding 1)', () => {
    const rand = testRandom(200);
    const x = randomTensor([1, 8, 11, 19], rand);
    const w = randomTensor([5, 5, 19], rand);
    gradCheck(([a, b]) => depthwiseConv2d(a, b, { stride: 2, padding: 1 }), [x, w], {
      eps: 1e-2,
      tolerance: 1e-2,
      samples: 48,
    });
  });

  for (const [name, fx] of Object.entries(fixtures)) {
    test(`matches PyTorch: ${name}`, () => {
      const [stride, padding] = fx.params.data;
      const x = load(fx.x);
      const w = load(fx.w);
      x.requiresGrad = true;
      w.requiresGrad = true;
      tidy(() => {
        const y = depthwiseConv2d(x, w, { stride: stride as 1 | 2, padding });
        assert.deepEqual([...y.shape], fx.y.shape, `${name} y shape`);
        assertClose(y.f32, fx.y.data, 1e-4, 1e-4, `${name} y`);
        backward(y, load(fx.gy));
      });
      assertClose(x.grad!.f32, fx.gx.data, 2e-4, 2e-4, `${name} gx`);
      assertClose(w.grad!.f32, fx.gw.data, 2e-4, 2e-4, `${name} gw`);
    });
  }

  test('default padding keeps the size at stride 1 and halves it (rounding up) at stride 2', () => {
    const x = Tensor.zeros([1, 7, 9, 3]);
    for (const k of [3, 5, 7]) {
      const w = Tensor.zeros([k, k, 3]);
      assert.deepEqual([...depthwiseConv2d(x, w).shape], [1, 7, 9, 3]);
      assert.deepEqual([...depthwiseConv2d(x, w, { stride: 2 }).shape], [1, 4, 5, 3]);
      assert.deepEqual([...depthwiseConv2d(x, w, { padding: 0 }).shape], [1, 8 - k, 10 - k, 3]);
    }
  });

  test('only inputs that require grad get a gradient', () => {
    const rand = testRandom(300);
    const x = randomTensor([1, 5, 5, 4], rand);
    const w = randomTensor([3, 3, 4], rand).asParameter();
    tidy(() => backward(depthwiseConv2d(x, w), Tensor.full([1, 5, 5, 4], 1)));
    assert.equal(x.grad, null);
    assert.ok(w.grad);
    // With all-ones upstream gradient, gw[kh, kw, c] is the sum of x over the taps' valid window.
    let centre = 0;
    for (let i = 0; i < 25; i++) centre += x.f32[i * 4];
    assert.ok(Math.abs(w.grad!.f32[(1 * 3 + 1) * 4] - centre) < 1e-5);
  });

  test('a frozen weight gets no gradient and the input gradient is unchanged', () => {
    const rand = testRandom(301);
    const g = geometry(2, 6, 7, 9, 5, 5, 2, 2);
    const x = randomTensor([2, 6, 7, 9], rand).asParameter();
    const w = randomTensor([5, 5, 9], rand);
    const gy = randomTensor([2, g.Ho, g.Wo, 9], rand);
    tidy(() => backward(depthwiseConv2d(x, w, { stride: 2 }), gy));
    assert.equal(w.grad, null);
    assertClose(x.grad!.f32, reference(g, x.f32, w.f32, gy.f32).gx, 1e-5, 1e-5, 'gx');
  });

  test('shape errors name the argument', () => {
    const x = Tensor.zeros([2, 8, 8, 4]);
    const w = Tensor.zeros([3, 3, 4]);
    assert.throws(() => depthwiseConv2d(Tensor.zeros([8, 8, 4]), w), /depthwiseConv2d: x must have rank 4/);
    assert.throws(() => depthwiseConv2d(x, Tensor.zeros([3, 3, 4, 1])), /depthwiseConv2d: w must have rank 3/);
    assert.throws(
      () => depthwiseConv2d(x, Tensor.zeros([3, 3, 5])),
      /depthwiseConv2d: w \[3, 3, 5\] must have 4 channels .*x \[2, 8, 8, 4\]/,
    );
    assert.throws(() => depthwiseConv2d(x, Tensor.zeros([3, 3, 4], 'int32')), /depthwiseConv2d: w must be float32/);
    assert.throws(() => depthwiseConv2d(Tensor.zeros([0, 8, 8, 4]), w), /x \[0, 8, 8, 4\] must not be empty/);
    assert.throws(() => depthwiseConv2d(x, w, { stride: 3 as 1 }), /depthwiseConv2d: stride must be 1 or 2, got 3/);
    assert.throws(() => depthwiseConv2d(x, w, { padding: -1 }), /depthwiseConv2d: padding must be a non-negative/);
    assert.throws(() => depthwiseConv2d(x, w, { padding: 1.5 }), /depthwiseConv2d: padding must be a non-negative/);
    assert.throws(
      () => depthwiseConv2d(x, Tensor.zeros([11, 11, 4]), { padding: 1 }),
      /depthwiseConv2d: kernel 11x11 .* does not fit x \[2, 8, 8, 4\] padded by 1\/1/,
    );
    assert.throws(
      () => depthwiseConv2d(x, Tensor.zeros([9, 9, 4]), { padding: 0 }),
      /depthwiseConv2d: kernel 9x9 .* does not fit/,
    );
  });

  test('native kernels reject arrays that do not match the geometry', () => {
    const g = [2, 5, 5, 3, 3, 3, 1, 1, 1];
    const x = new Float32Array(2 * 5 * 5 * 3);
    const w = new Float32Array(27);
    assert.throws(
      () => native.depthwiseForward(x, w, new Float32Array(10), ...g),
      /depthwiseForward: y has 10 elements/,
    );
    assert.throws(() => native.depthwiseForward(x, new Float32Array(26), x, ...g), /depthwiseForward: w has 26/);
    assert.throws(() => native.depthwiseBackwardInput(x, w, new Float32Array(1), ...g), /gx has 1 elements/);
    assert.throws(() => native.depthwiseBackwardWeight(x, x, new Float32Array(9), ...g), /gw has 9 elements/);
    assert.throws(
      () => native.depthwiseBackward(x, x, w, x, new Float32Array(28), ...g),
      /depthwiseBackward: gw has 28 elements/,
    );
    assert.throws(
      () => native.depthwiseForward(x, w, x, 2, 5, 5, 3, 3, 3, 0, 1, 1),
      /depthwiseForward: invalid geometry/,
    );
    assert.throws(
      () => native.depthwiseForward(x, w, x, 2, 5, 5, 3, 3, 3, 1, 1, -1),
      /depthwiseForward: invalid geometry/,
    );
  });
});
