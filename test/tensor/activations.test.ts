import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  backward,
  hardSigmoid,
  mulChannel,
  noGrad,
  relu,
  relu6,
  sigmoid,
  swish,
  Tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { assertClose, load, readTorchFixture } from '../helpers/torch-fixture.ts';

const fixtures = readTorchFixture('norm_act.json');

const ACTIVATIONS: Record<string, { fn: (x: Tensor) => Tensor; kinks: number[]; ref: (v: number) => number }> = {
  relu: { fn: relu, kinks: [0], ref: (v) => Math.max(v, 0) },
  relu6: { fn: relu6, kinks: [0, 6], ref: (v) => Math.min(Math.max(v, 0), 6) },
  sigmoid: { fn: sigmoid, kinks: [], ref: (v) => 1 / (1 + Math.exp(-v)) },
  swish: { fn: swish, kinks: [], ref: (v) => v / (1 + Math.exp(-v)) },
  hardSigmoid: { fn: hardSigmoid, kinks: [-3, 3], ref: (v) => Math.min(Math.max(v + 3, 0), 6) / 6 },
};

/** Random values in [lo, hi] kept 0.05 away from the kinks, where finite differences break. */
function awayFromKinks(shape: number[], rand: () => number, kinks: number[], lo = -8, hi = 8): Tensor {
  const t = randomTensor(shape, rand, lo, hi);
  const d = t.f32;
  for (let i = 0; i < d.length; i++) for (const k of kinks) if (Math.abs(d[i] - k) < 0.05) d[i] = k + 0.1;
  return t;
}

describe('activations', () => {
  for (const [name, { fn }] of Object.entries(ACTIVATIONS)) {
    test(`${name} matches PyTorch forward and gradient`, () => {
      const c = fixtures[name];
      const x = load(c.x);
      x.requiresGrad = true;
      tidy(() => {
        const y = fn(x);
        assertClose(y, c.y, 1e-6, 1e-5, 'y');
        backward(y, load(c.gy));
      });
      assertClose(x.grad!, c.gx, 1e-6, 1e-5, 'gx');
    });
  }

  for (const [name, { fn, kinks }] of Object.entries(ACTIVATIONS)) {
    test(`${name} gradient matches finite differences`, () => {
      const rand = testRandom(name.length * 7);
      // 35 elements: four full 8-lane blocks and a tail.
      gradCheck(([x]) => fn(x), [awayFromKinks([5, 7], rand, kinks)], { eps: 1e-3, tolerance: 1e-2 });
    });
  }

  test('swish stays accurate over the whole float range (large inputs, threaded)', () => {
    const c = fixtures.swish_large;
    const x = load(c.x);
    x.requiresGrad = true;
    tidy(() => {
      const y = swish(x);
      assertClose(y, c.y, 1e-6, 1e-5, 'y');
      backward(y, load(c.gy));
    });
    assertClose(x.grad!, c.gx, 1e-6, 1e-5, 'gx');

    const n = 100_003; // threaded, with a tail
    const big = Tensor.empty([n]);
    for (let i = 0; i < n; i++) big.f32[i] = -100 + (200 * i) / n;
    for (const [name, { fn, ref }] of Object.entries(ACTIVATIONS)) {
      const y = noGrad(() => fn(big));
      for (let i = 0; i < n; i++) {
        const e = ref(big.f32[i]);
        assert.ok(
          Math.abs(y.f32[i] - e) <= 1e-30 + 2e-6 * Math.abs(e),
          `${name}(${big.f32[i]}) = ${y.f32[i]}, expected ${e}`,
        );
      }
    }
    for (const v of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const y = noGrad(() => sigmoid(Tensor.from([v]))).item();
      // exp saturates at the largest finite float, so sigmoid(-inf) is ~3e-39 rather than 0.
      assert.ok(v > 0 ? y === 1 : y >= 0 && y < 1e-38);
    }
  });
});

describe('mulChannel', () => {
  test('matches PyTorch forward and gradients', () => {
    const c = fixtures.mulChannel;
    const x = load(c.x);
    const s = load(c.s);
    x.requiresGrad = true;
    s.requiresGrad = true;
    tidy(() => {
      const y = mulChannel(x, s);
      assertClose(y, c.y, 1e-6, 1e-5, 'y');
      backward(y, load(c.gy));
    });
    assertClose(x.grad!, c.gx, 1e-6, 1e-5, 'gx');
    assertClose(s.grad!, c.gs, 1e-5, 1e-5, 'gs');
  });

  test('gradients match finite differences (tail channels, threaded size)', () => {
    const rand = testRandom(5);
    gradCheck(([x, s]) => mulChannel(x, s), [randomTensor([3, 4, 5, 13], rand), randomTensor([3, 13], rand)], {
      eps: 1e-2,
      tolerance: 1e-2,
    });
    const x = randomTensor([4, 20, 20, 24], rand);
    const s = randomTensor([4, 24], rand);
    const y = noGrad(() => mulChannel(x, s));
    for (let i = 0; i < x.size; i += 97) {
      const n = Math.floor(i / (400 * 24));
      assert.equal(y.f32[i], Math.fround(x.f32[i] * s.f32[n * 24 + (i % 24)]));
    }
  });

  test('errors name the argument and the shapes', () => {
    assert.throws(
      () => mulChannel(Tensor.zeros([2, 3, 3, 4]), Tensor.zeros([2, 5])),
      /mulChannel: s \[2, 5\] must be \[N, C\] = \[2, 4\] for x \[2, 3, 3, 4\]/,
    );
    assert.throws(() => mulChannel(Tensor.zeros([2, 4]), Tensor.zeros([2, 4])), /mulChannel: x must have rank 4/);
  });
});
