import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backward, logSoftmax, noGrad, softmax, Tensor, tidy } from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { assertClose, load, readTorchFixture } from '../helpers/torch-fixture.ts';

const fixtures = readTorchFixture('norm_act.json');

describe('softmax and logSoftmax', () => {
  for (const [name, fn] of [
    ['softmax', softmax],
    ['logSoftmax', logSoftmax],
  ] as const) {
    test(`${name} matches PyTorch on logits around 50`, () => {
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

    test(`${name} gradient matches finite differences`, () => {
      const rand = testRandom(name.length);
      gradCheck(([x]) => fn(x), [randomTensor([3, 11], rand, -3, 3)], { eps: 1e-3, tolerance: 1e-2 });
    });
  }

  test('stable for huge logits; rows sum to one; threaded batch', () => {
    const x = Tensor.from([1000, 0, -1000, 1e30, 1e30, -1e30], [2, 3]);
    const y = noGrad(() => softmax(x)).toArray();
    assert.deepEqual(y, [1, 0, 0, 0.5, 0.5, 0]);
    const l = noGrad(() => logSoftmax(x)).toArray();
    assert.equal(l[0], 0);
    assert.equal(l[1], -1000);
    assert.ok(l.every((v) => !Number.isNaN(v)));

    const rand = testRandom(9);
    const big = randomTensor([512, 100], rand, -10, 10);
    const p = noGrad(() => softmax(big));
    for (let r = 0; r < 512; r++) {
      let s = 0;
      for (let c = 0; c < 100; c++) s += p.f32[r * 100 + c];
      assert.ok(Math.abs(s - 1) < 1e-5, `row ${r} sums to ${s}`);
    }
  });

  test('errors name the argument and the shapes', () => {
    assert.throws(() => softmax(Tensor.zeros([2, 3, 4])), /softmax: x must have rank 2, got shape \[2, 3, 4\]/);
    assert.throws(() => logSoftmax(Tensor.zeros([3])), /logSoftmax: x must have rank 2, got shape \[3\]/);
  });
});
