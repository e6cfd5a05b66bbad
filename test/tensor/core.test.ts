import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  add,
  backward,
  keep,
  memoryStats,
  mul,
  native,
  noGrad,
  reshape,
  scale,
  sub,
  Tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';

describe('Tensor core', () => {
  test('shape and storage checks name the problem', () => {
    assert.throws(() => Tensor.from([1, 2, 3], [2, 2]), /3 values do not fill shape \[2, 2\]/);
    const t = Tensor.from([1, 2, 3, 4], [2, 2]);
    assert.throws(() => reshape(t, [3, -1]), /cannot view \[2, 2\]/);
    t.dispose();
    assert.throws(() => t.f32, /used after dispose/);
  });

  test('tidy disposes temporaries and keeps the result', () => {
    const before = memoryStats().liveStorages;
    const kept = tidy(() => {
      const a = Tensor.full([4], 2);
      const b = Tensor.full([4], 3);
      return add(mul(a, b), a);
    });
    assert.deepEqual(kept.toArray(), [8, 8, 8, 8]);
    assert.equal(memoryStats().liveStorages, before + 1);
    kept.dispose();
    assert.equal(memoryStats().liveStorages, before);
  });

  test('gradients accumulate over shared inputs and across backward calls', () => {
    const x = Tensor.from([1, 2, 3]).asParameter();
    tidy(() => {
      // y = sum((x + x) * x) = 2 x^2, dy/dx = 4x, via a reshape.
      const y = mul(add(x, x), reshape(reshape(x, [3, 1]), [3]));
      backward(y, Tensor.full([3], 1));
    });
    assert.deepEqual(x.grad!.toArray(), [4, 8, 12]);
    tidy(() => backward(scale(x, 2), Tensor.full([3], 1)));
    assert.deepEqual(x.grad!.toArray(), [6, 10, 14]);
    x.grad!.dispose();
    x.dispose();
  });

  test('noGrad records nothing', () => {
    const x = Tensor.from([1, 2]).asParameter();
    const y = noGrad(() => tidy(() => keep(scale(x, 3))));
    assert.equal(y.requiresGrad, false);
    assert.equal(y.node, null);
    y.dispose();
    x.dispose();
  });

  test('elementwise gradients match finite differences', () => {
    const rand = testRandom(1);
    const a = randomTensor([3, 5], rand);
    const b = randomTensor([3, 5], rand);
    gradCheck(([p, q]) => mul(sub(p, q), add(p, scale(q, 0.5))), [a, b]);
  });

  test('memory stays flat over many steps', () => {
    const w = Tensor.from([0.5, -0.5, 0.25, 1]).asParameter();
    const step = () =>
      tidy(() => {
        const x = Tensor.full([4], 1);
        backward(mul(w, x), Tensor.full([4], 1));
      });
    for (let i = 0; i < 10; i++) step();
    const base = memoryStats();
    for (let i = 0; i < 1000; i++) {
      step();
      w.grad?.dispose();
      w.grad = null;
    }
    const after = memoryStats();
    assert.equal(after.liveStorages, base.liveStorages - (base.liveStorages > after.liveStorages ? 1 : 0));
    assert.ok(after.pooledBytes <= base.pooledBytes + 64, 'pool grew');
    w.dispose();
  });

  test('large tensors start on a page boundary, fresh or from the pool', () => {
    const lengths = [16384, 100000, 6272 * 80];
    for (const length of lengths) {
      for (const dtype of ['float32', 'int32'] as const) {
        const t = Tensor.zeros([length], dtype);
        assert.equal(native.pageOffset(t.data), 0, `${dtype} [${length}]`);
        assert.equal(t.size, length);
        assert.ok(
          t.data.every((v) => v === 0),
          `${dtype} [${length}] is zero-filled`,
        );
        t.dispose();
        const again = Tensor.empty([length], dtype);
        assert.equal(native.pageOffset(again.data), 0, `${dtype} [${length}] from the pool`);
        again.dispose();
      }
    }
  });
});
