import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backward, conv2d, getThreads, native, noGrad, setThreads, Tensor, tidy } from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { assertClose, load, readTorchFixture } from '../helpers/torch-fixture.ts';

const fixtures = readTorchFixture('conv.json');

/** Plain loops over the definition, in float64: the reference the fast paths are checked against. */
function referenceConv(
  x: Tensor,
  w: Tensor,
  stride: number,
  padding: number,
  groups: number,
  bias?: Tensor,
): Float64Array {
  const [n, h, wd, cin] = x.shape;
  const [kh, kw, cig, cout] = w.shape;
  const cog = cout / groups;
  const ho = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const wo = Math.floor((wd + 2 * padding - kw) / stride) + 1;
  const out = new Float64Array(n * ho * wo * cout);
  const xd = x.f32;
  const wdata = w.f32;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let co = 0; co < cout; co++) {
          const g = Math.floor(co / cog);
          let s = bias ? bias.f32[co] : 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * stride - padding + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * stride - padding + kx;
              if (ix < 0 || ix >= wd) continue;
              for (let ci = 0; ci < cig; ci++) {
                s += xd[((b * h + iy) * wd + ix) * cin + g * cig + ci] * wdata[((ky * kw + kx) * cig + ci) * cout + co];
              }
            }
          }
          out[((b * ho + oy) * wo + ox) * cout + co] = s;
        }
  return out;
}

describe('conv2d', () => {
  const configs = [
    { k: 1, stride: 1, padding: 0, groups: 1, bias: true, name: 'pointwise (GEMM path)' },
    { k: 1, stride: 1, padding: 0, groups: 1, bias: false, name: 'pointwise, no bias' },
    { k: 1, stride: 2, padding: 0, groups: 1, bias: false, name: '1x1 stride 2' },
    { k: 3, stride: 1, padding: 1, groups: 1, bias: true, name: '3x3 s1 p1' },
    { k: 3, stride: 2, padding: 1, groups: 1, bias: false, name: '3x3 s2 p1' },
    { k: 3, stride: 2, padding: 0, groups: 2, bias: true, name: '3x3 s2 p0 groups 2' },
    { k: 5, stride: 1, padding: 2, groups: 2, bias: false, name: '5x5 s1 p2 groups 2' },
    { k: 5, stride: 2, padding: 2, groups: 1, bias: true, name: '5x5 s2 p2' },
    { k: 3, stride: 1, padding: 0, groups: 1, bias: true, name: '3x3 s1 p0' },
  ];

  for (const c of configs) {
    test(`${c.name}: forward matches the definition, gradients match finite differences`, () => {
      const rand = testRandom(c.k * 100 + c.stride * 10 + c.padding + c.groups * 1000);
      const cin = 4;
      const cout = 6;
      const x = randomTensor([2, 7, 6, cin], rand);
      const w = randomTensor([c.k, c.k, cin / c.groups, cout], rand);
      const b = c.bias ? randomTensor([cout], rand) : undefined;
      const y = noGrad(() => conv2d(x, w, { stride: c.stride, padding: c.padding, groups: c.groups, bias: b }));
      const ref = referenceConv(x, w, c.stride, c.padding, c.groups, b);
      assert.equal(y.size, ref.length);
      for (let i = 0; i < ref.length; i++) {
        assert.ok(Math.abs(y.f32[i] - ref[i]) <= 1e-5 + 1e-5 * Math.abs(ref[i]), `y[${i}] = ${y.f32[i]} vs ${ref[i]}`);
      }
      y.dispose();
      // float32 through the whole op: eps 1e-2 keeps the finite-difference noise well under 1e-2.
      gradCheck(
        ([xi, wi, bi]) => conv2d(xi, wi, { stride: c.stride, padding: c.padding, groups: c.groups, bias: bi }),
        b ? [x, w, b] : [x, w],
        { eps: 1e-2, tolerance: 1e-2, samples: 48 },
      );
    });
  }

  test('a tall pointwise conv (row-blocked multi-threaded GEMM path) matches a float64 reference', () => {
    // M = 3*61*67 = 12261 pixels: several L2 blocks per thread, uneven thread and block splits.
    const rand = testRandom(21);
    const [cin, cout] = [16, 24];
    const x = randomTensor([3, 61, 67, cin], rand);
    const w = randomTensor([1, 1, cin, cout], rand);
    const b = randomTensor([cout], rand);
    const g = randomTensor([3, 61, 67, cout], rand);
    const m = x.size / cin;
    for (const t of [x, w, b]) t.requiresGrad = true;
    tidy(() => {
      const y = conv2d(x, w, { bias: b });
      const yRef = new Float64Array(m * cout);
      const gxRef = new Float64Array(m * cin);
      const gwRef = new Float64Array(cin * cout);
      const gbRef = new Float64Array(cout);
      const [xd, wd, gd] = [x.f32, w.f32, g.f32];
      for (let i = 0; i < m; i++)
        for (let o = 0; o < cout; o++) {
          let s = b.f32[o];
          const gv = gd[i * cout + o];
          gbRef[o] += gv;
          for (let c = 0; c < cin; c++) {
            s += xd[i * cin + c] * wd[c * cout + o];
            gxRef[i * cin + c] += gv * wd[c * cout + o];
            gwRef[c * cout + o] += xd[i * cin + c] * gv;
          }
          yRef[i * cout + o] = s;
        }
      const close = (got: Float32Array, want: Float64Array, abs: number, what: string) => {
        assert.equal(got.length, want.length, what);
        for (let i = 0; i < want.length; i++) {
          if (Math.abs(got[i] - want[i]) > abs + 1e-4 * Math.abs(want[i]))
            assert.fail(`${what}[${i}]: ${got[i]} vs ${want[i]}`);
        }
      };
      close(y.f32, yRef, 1e-5, 'y');
      backward(y, g);
      close(x.grad!.f32, gxRef, 1e-5, 'gx');
      // gw and gb sum over 12k pixels: float32 accumulation error grows with the count.
      close(w.grad!.f32, gwRef, 2e-3, 'gw');
      close(b.grad!.f32, gbRef, 2e-3, 'gb');
    });
  });

  test('a tall pointwise conv gives the same gradients on 1 and 2 threads (fixed chunks)', () => {
    const rand = testRandom(22);
    const x = randomTensor([3, 61, 67, 16], rand);
    const w = randomTensor([1, 1, 16, 24], rand);
    const b = randomTensor([24], rand);
    const g = randomTensor([3, 61, 67, 24], rand);
    const threads = getThreads();
    const grads = (n: number) => {
      setThreads(n);
      try {
        for (const t of [x, w, b]) {
          t.requiresGrad = true;
          t.grad = null;
        }
        tidy(() => backward(conv2d(x, w, { bias: b }), g));
        return [x, w, b].map((t) => t.grad!.f32.slice());
      } finally {
        setThreads(threads);
      }
    };
    const [one, two] = [grads(1), grads(2)];
    ['gx', 'gw', 'gb'].forEach((name, i) => {
      assert.deepEqual(two[i], one[i], `${name} differs between 1 and 2 threads`);
    });
  });

  test('only the inputs that require grad get gradients', () => {
    const rand = testRandom(5);
    for (const k of [1, 3]) {
      const x = randomTensor([1, 5, 5, 3], rand);
      const w = randomTensor([k, k, 3, 4], rand).asParameter();
      const b = randomTensor([4], rand);
      tidy(() => backward(conv2d(x, w, { padding: k >> 1, bias: b }), Tensor.full([1, 5, 5, 4], 1)));
      assert.ok(w.grad, `k=${k}: w has a gradient`);
      assert.equal(x.grad, null);
      assert.equal(b.grad, null);
      // bias only
      const b2 = randomTensor([4], rand).asParameter();
      w.requiresGrad = false;
      tidy(() => backward(conv2d(x, w, { padding: k >> 1, bias: b2 }), Tensor.full([1, 5, 5, 4], 1)));
      assert.deepEqual(b2.grad!.toArray(), [25, 25, 25, 25]);
    }
  });

  for (const [name, fx] of Object.entries(fixtures).filter(([k]) => !k.startsWith('linear'))) {
    test(`matches PyTorch: ${name}`, () => {
      const [stride, padding, groups] = fx.params.data;
      const x = load(fx.x);
      const w = load(fx.w);
      const b = fx.b ? load(fx.b) : undefined;
      x.requiresGrad = true;
      w.requiresGrad = true;
      if (b) b.requiresGrad = true;
      tidy(() => {
        const y = conv2d(x, w, { stride, padding, groups, bias: b });
        assertClose(y, fx.y, 1e-4, 1e-4, `${name} y`);
        backward(y, load(fx.gy));
      });
      assertClose(x.grad!, fx.gx, 2e-4, 2e-4, `${name} gx`);
      assertClose(w.grad!, fx.gw, 2e-4, 2e-4, `${name} gw`);
      if (b) assertClose(b.grad!, fx.gb, 2e-4, 2e-4, `${name} gb`);
    });
  }

  test('shape errors name the argument', () => {
    const x = Tensor.zeros([2, 8, 8, 4]);
    assert.throws(() => conv2d(Tensor.zeros([8, 8, 4]), Tensor.zeros([3, 3, 4, 8])), /conv2d: x must have rank 4/);
    assert.throws(() => conv2d(x, Tensor.zeros([3, 4, 8])), /conv2d: w must have rank 4/);
    assert.throws(
      () => conv2d(x, Tensor.zeros([3, 3, 3, 8])),
      /conv2d: w \[3, 3, 3, 8\] expects 3 input channels.*x \[2, 8, 8, 4\] has 4/,
    );
    assert.throws(() => conv2d(x, Tensor.zeros([3, 3, 2, 6]), { groups: 4 }), /divisible by groups 4/);
    assert.throws(
      () => conv2d(x, Tensor.zeros([3, 3, 4, 8]), { bias: Tensor.zeros([4]) }),
      /conv2d: bias must have shape \[8\], got \[4\]/,
    );
    assert.throws(() => conv2d(x, Tensor.zeros([3, 3, 4, 8]), { stride: 0 }), /conv2d: stride must be an integer >= 1/);
    assert.throws(() => conv2d(x, Tensor.zeros([3, 3, 4, 8]), { padding: -1 }), /conv2d: padding must be/);
    assert.throws(() => conv2d(x, Tensor.zeros([9, 9, 4, 8])), /conv2d: kernel 9x9 does not fit x \[2, 8, 8, 4\]/);
    assert.throws(
      () => conv2d(Tensor.zeros([0, 8, 8, 4]), Tensor.zeros([1, 1, 4, 8])),
      /conv2d: x \[0, 8, 8, 4\] and w .* zero-sized/,
    );
  });

  test('native kernels reject arrays of the wrong size', () => {
    assert.throws(
      () =>
        native.convForward(
          new Float32Array(10),
          new Float32Array(9),
          new Float32Array(0),
          new Float32Array(4),
          1,
          2,
          2,
          1,
          1,
          3,
          3,
          1,
          1,
          1,
          false,
        ),
      /convForward: x has 10 elements, expected 4/,
    );
  });
});
