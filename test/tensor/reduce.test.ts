import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backward, mean, noGrad, sum, Tensor, tidy } from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';

describe('sum and mean', () => {
  test('reduce to a scalar [] tensor', () => {
    const x = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
    const s = noGrad(() => sum(x));
    assert.deepEqual([...s.shape], []);
    assert.equal(s.item(), 21);
    assert.equal(noGrad(() => mean(x)).item(), 3.5);
  });

  test('accumulate in double: a million 0.1s (threaded) sum to 100000', () => {
    const x = Tensor.full([1_000_003], 0.1);
    const expected = 1_000_003 * Math.fround(0.1);
    assert.ok(Math.abs(noGrad(() => sum(x)).item() - expected) < 1e-2);
    assert.ok(Math.abs(noGrad(() => mean(x)).item() - Math.fround(0.1)) < 1e-7);
  });

  test('gradients: ones and 1 / n, times the upstream gradient', () => {
    const rand = testRandom(8);
    gradCheck(([x]) => sum(x), [randomTensor([3, 5], rand)], { eps: 1e-2, tolerance: 1e-3 });
    gradCheck(([x]) => mean(x), [randomTensor([2, 2, 3], rand)], { eps: 1e-2, tolerance: 1e-3 });
    const x = Tensor.from([1, 2, 3, 4]).asParameter();
    tidy(() => backward(mean(x), Tensor.scalar(2)));
    assert.deepEqual(x.grad!.toArray(), [0.5, 0.5, 0.5, 0.5]);
  });

  test('errors', () => {
    assert.throws(() => mean(Tensor.zeros([0])), /mean: x must not be empty/);
    assert.throws(() => sum(Tensor.zeros([2], 'int32')), /sum: x must be float32, got int32/);
  });
});
