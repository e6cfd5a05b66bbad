import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  avgPool2d,
  backward,
  globalAvgPool,
  maxPool2d,
  noGrad,
  type Pool2dOptions,
  Tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { assertClose, load, readTorchFixture } from '../helpers/torch-fixture.ts';

const fixtures = readTorchFixture('norm_act.json');

function checkFixture(name: string, fn: (x: Tensor) => Tensor): void {
  const c = fixtures[name];
  const x = load(c.x);
  x.requiresGrad = true;
  tidy(() => {
    const y = fn(x);
    assertClose(y, c.y, 1e-6, 1e-5, `${name} y`);
    backward(y, load(c.gy));
  });
  assertClose(x.grad!, c.gx, 1e-6, 1e-5, `${name} gx`);
}

describe('pooling', () => {
  test('globalAvgPool matches PyTorch', () => checkFixture('globalAvgPool', globalAvgPool));

  for (const name of ['avgPool_k3_s2_p1', 'avgPool_k2_s2_p0', 'maxPool_k3_s2_p1', 'maxPool_k2_s1_p0']) {
    test(`${name} matches PyTorch (count_include_pad, floor mode)`, () => {
      const [kernel, stride, padding] = fixtures[name].params.data;
      const pool = name.startsWith('avg') ? avgPool2d : maxPool2d;
      checkFixture(name, (x) => pool(x, { kernel, stride, padding }));
    });
  }

  test('gradients match finite differences', () => {
    const rand = testRandom(17);
    gradCheck(([x]) => globalAvgPool(x), [randomTensor([2, 3, 4, 10], rand)], { eps: 1e-2, tolerance: 1e-2 });
    const opts: Pool2dOptions[] = [
      { kernel: 3, stride: 2, padding: 1 },
      { kernel: [3, 2], stride: [1, 2], padding: [1, 0] },
      { kernel: 2 },
    ];
    for (const o of opts) {
      gradCheck(([x]) => avgPool2d(x, o), [randomTensor([2, 5, 6, 3], rand)], { eps: 1e-2, tolerance: 1e-2 });
      // Distinct values spaced more than 2 eps apart, so no step changes which element is the max.
      const x = Tensor.empty([2, 5, 6, 3]);
      const order = Array.from({ length: x.size }, (_, i) => i).sort(() => rand() - 0.5);
      order.forEach((r, i) => {
        x.f32[i] = r * 0.05 - 3;
      });
      gradCheck(([xi]) => maxPool2d(xi, o), [x], { eps: 1e-2, tolerance: 1e-2 });
    }
  });

  test('defaults: stride is the kernel, no padding; rectangular windows', () => {
    const x = Tensor.from(
      Array.from({ length: 16 }, (_, i) => i),
      [1, 4, 4, 1],
    );
    assert.deepEqual(noGrad(() => maxPool2d(x, { kernel: 2 })).toArray(), [5, 7, 13, 15]);
    assert.deepEqual(noGrad(() => avgPool2d(x, { kernel: 2 })).toArray(), [2.5, 4.5, 10.5, 12.5]);
    const r = noGrad(() => avgPool2d(x, { kernel: [1, 4] }));
    assert.deepEqual([...r.shape], [1, 4, 1, 1]);
    assert.deepEqual(r.toArray(), [1.5, 5.5, 9.5, 13.5]);
  });

  test('maxPool2d: padding never wins, NaN propagates, ties go to the first', () => {
    const neg = Tensor.from([-5, -6, -7, -8], [1, 2, 2, 1]);
    assert.deepEqual(noGrad(() => maxPool2d(neg, { kernel: 3, stride: 1, padding: 1 })).toArray(), [-5, -5, -5, -5]);
    const nan = Tensor.from([1, Number.NaN, 3, 4], [1, 2, 2, 1]);
    assert.ok(Number.isNaN(noGrad(() => maxPool2d(nan, { kernel: 2 })).item()));
    const ties = Tensor.from([2, 2, 2, 2], [1, 2, 2, 1]);
    ties.requiresGrad = true;
    tidy(() => backward(maxPool2d(ties, { kernel: 2 }), Tensor.full([1, 1, 1, 1], 1)));
    assert.deepEqual(ties.grad!.toArray(), [1, 0, 0, 0]);
  });

  test('large inputs (threaded) agree with a direct computation', () => {
    const rand = testRandom(23);
    const x = randomTensor([4, 14, 14, 40], rand);
    const g = noGrad(() => globalAvgPool(x));
    const m = noGrad(() => maxPool2d(x, { kernel: 3, stride: 2, padding: 1 }));
    for (let n = 0; n < 4; n++) {
      for (let c = 0; c < 40; c += 7) {
        let s = 0;
        for (let p = 0; p < 196; p++) s += x.f32[(n * 196 + p) * 40 + c];
        assert.ok(Math.abs(g.f32[n * 40 + c] - s / 196) < 1e-6);
        // Output (3, 4) covers rows 5..7, columns 7..9.
        let best = Number.NEGATIVE_INFINITY;
        for (let h = 5; h <= 7; h++)
          for (let w = 7; w <= 9; w++) best = Math.max(best, x.f32[((n * 14 + h) * 14 + w) * 40 + c]);
        assert.equal(m.f32[((n * 7 + 3) * 7 + 4) * 40 + c], best);
      }
    }
  });

  test('errors name the argument and the shapes', () => {
    const x = Tensor.zeros([1, 4, 4, 2]);
    assert.throws(() => globalAvgPool(Tensor.zeros([4, 2])), /globalAvgPool: x must have rank 4, got shape \[4, 2\]/);
    assert.throws(
      () => maxPool2d(x, { kernel: 2, padding: 2 }),
      /maxPool2d: padding \[2, 2\] must be at most half the kernel \[2, 2\]/,
    );
    assert.throws(() => avgPool2d(x, { kernel: 5 }), /avgPool2d: kernel \[5, 5\] is larger than x \[1, 4, 4, 2\]/);
    assert.throws(() => avgPool2d(x, { kernel: 0 }), /avgPool2d: kernel and stride must be positive integers/);
  });
});
