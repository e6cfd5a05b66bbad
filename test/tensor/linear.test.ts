import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backward, linear, noGrad, Tensor, tidy } from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { assertClose, load, readTorchFixture } from '../helpers/torch-fixture.ts';

const fixtures = readTorchFixture('conv.json');

describe('linear', () => {
  test('forward is x w + b', () => {
    const x = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
    const w = Tensor.from([1, 0, 0, 1, 1, 1], [3, 2]);
    const b = Tensor.from([10, 20]);
    const y = noGrad(() => linear(x, w, b));
    assert.deepEqual([...y.shape], [2, 2]);
    assert.deepEqual(y.toArray(), [14, 25, 20, 31]);
    assert.deepEqual(noGrad(() => linear(x, w)).toArray(), [4, 5, 10, 11]);
  });

  test('gradients match finite differences, with and without bias', () => {
    const rand = testRandom(11);
    const x = randomTensor([6, 9], rand);
    const w = randomTensor([9, 5], rand);
    const b = randomTensor([5], rand);
    gradCheck(([xi, wi, bi]) => linear(xi, wi, bi), [x, w, b], { eps: 1e-2, tolerance: 1e-2 });
    gradCheck(([xi, wi]) => linear(xi, wi), [x, w], { eps: 1e-2, tolerance: 1e-2 });
  });

  test('a batch of one (SE block on pooled vectors)', () => {
    const rand = testRandom(12);
    gradCheck(
      ([xi, wi, bi]) => linear(xi, wi, bi),
      [randomTensor([1, 16], rand), randomTensor([16, 4], rand), randomTensor([4], rand)],
      {
        eps: 1e-2,
        tolerance: 1e-2,
      },
    );
  });

  for (const [name, fx] of Object.entries(fixtures).filter(([k]) => k.startsWith('linear'))) {
    test(`matches PyTorch: ${name}`, () => {
      const x = load(fx.x);
      const w = load(fx.w);
      const b = fx.b ? load(fx.b) : null;
      x.requiresGrad = true;
      w.requiresGrad = true;
      if (b) b.requiresGrad = true;
      tidy(() => {
        const y = linear(x, w, b);
        assertClose(y, fx.y, 1e-5, 1e-5, `${name} y`);
        backward(y, load(fx.gy));
      });
      assertClose(x.grad!, fx.gx, 1e-5, 1e-5, `${name} gx`);
      assertClose(w.grad!, fx.gw, 1e-5, 1e-5, `${name} gw`);
      if (b) assertClose(b.grad!, fx.gb, 1e-5, 1e-5, `${name} gb`);
    });
  }

  test('shape errors name the argument', () => {
    const x = Tensor.zeros([4, 8]);
    assert.throws(() => linear(Tensor.zeros([8]), Tensor.zeros([8, 2])), /linear: x must have rank 2, got shape \[8\]/);
    assert.throws(() => linear(x, Tensor.zeros([8])), /linear: w must have rank 2/);
    assert.throws(() => linear(x, Tensor.zeros([7, 2])), /linear: w \[7, 2\] must have 8 rows to match x \[4, 8\]/);
    assert.throws(
      () => linear(x, Tensor.zeros([8, 2]), Tensor.zeros([3])),
      /linear: b must have shape \[2\], got \[3\]/,
    );
  });
});
