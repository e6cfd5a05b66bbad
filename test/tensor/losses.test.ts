import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  accuracy,
  backward,
  crossEntropy,
  noGrad,
  scale,
  softTargetCrossEntropy,
  Tensor,
  tidy,
  topKAccuracy,
} from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { assertClose, load, readTorchFixture } from '../helpers/torch-fixture.ts';

const fixtures = readTorchFixture('norm_act.json');

function labels(values: number[]): Tensor {
  return Tensor.from(values, [values.length], 'int32');
}

describe('crossEntropy', () => {
  for (const name of ['crossEntropy', 'crossEntropy_ls0.1']) {
    test(`matches PyTorch: ${name}`, () => {
      const c = fixtures[name];
      const logits = load(c.logits);
      logits.requiresGrad = true;
      const labelSmoothing = c.params.data[0];
      tidy(() => {
        const loss = crossEntropy(logits, labels(c.labels.data), { labelSmoothing });
        assertClose(loss, c.loss, 1e-6, 1e-6, 'loss');
        backward(loss);
      });
      assertClose(logits.grad!, c.glogits, 1e-7, 1e-5, 'glogits');
    });
  }

  test('gradient matches finite differences, and scales with the upstream gradient', () => {
    const rand = testRandom(2);
    const y = labels([0, 3, 2, 4, 1]);
    for (const labelSmoothing of [0, 0.1]) {
      gradCheck(([x]) => crossEntropy(x, y, { labelSmoothing }), [randomTensor([5, 6], rand, -3, 3)], {
        eps: 1e-3,
        tolerance: 1e-2,
      });
    }
    gradCheck(([x]) => scale(crossEntropy(x, y), 3), [randomTensor([5, 6], rand, -3, 3)], {
      eps: 1e-3,
      tolerance: 1e-2,
    });
  });

  test('huge logits stay finite', () => {
    const loss = noGrad(() => crossEntropy(Tensor.from([1e4, -1e4, 0, 0], [2, 2]), labels([1, 0]))).item();
    assert.ok(Math.abs(loss - (2e4 + Math.log(2)) / 2) < 1e-2);
  });

  test('labels are checked: dtype, shape and range', () => {
    const x = Tensor.zeros([2, 3]);
    assert.throws(() => crossEntropy(x, Tensor.from([0, 1])), /crossEntropy: labels must be int32, got float32/);
    assert.throws(
      () => crossEntropy(x, labels([0, 1, 2])),
      /crossEntropy: labels must be \[N\] = \[2\] for logits \[2, 3\], got \[3\]/,
    );
    assert.throws(() => crossEntropy(x, labels([0, 3])), /crossEntropy: label 3 at row 1 is outside \[0, 3\)/);
    assert.throws(() => crossEntropy(x, labels([-1, 0])), /crossEntropy: label -1 at row 0 is outside \[0, 3\)/);
    assert.throws(() => crossEntropy(x, labels([0, 1]), { labelSmoothing: 1.5 }), /labelSmoothing must be in \[0, 1\]/);
  });
});

describe('softTargetCrossEntropy', () => {
  test('matches PyTorch', () => {
    const c = fixtures.softTargetCrossEntropy;
    const logits = load(c.logits);
    const targets = load(c.targets);
    logits.requiresGrad = true;
    targets.requiresGrad = true;
    tidy(() => {
      const loss = softTargetCrossEntropy(logits, targets);
      assertClose(loss, c.loss, 1e-6, 1e-6, 'loss');
      backward(loss);
    });
    assertClose(logits.grad!, c.glogits, 1e-7, 1e-5, 'glogits');
    assert.equal(targets.grad, null, 'targets get no gradient');
  });

  test('gradient matches finite differences; one-hot targets equal crossEntropy', () => {
    const rand = testRandom(4);
    const t = noGrad(() => randomTensor([4, 5], rand, 0, 1));
    gradCheck(([x]) => softTargetCrossEntropy(x, t), [randomTensor([4, 5], rand, -3, 3)], {
      eps: 1e-3,
      tolerance: 1e-2,
    });
    const x = randomTensor([3, 4], rand, -3, 3);
    const onehot = Tensor.from([0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0], [3, 4]);
    const a = noGrad(() => softTargetCrossEntropy(x, onehot)).item();
    const b = noGrad(() => crossEntropy(x, labels([1, 3, 0]))).item();
    assert.ok(Math.abs(a - b) < 1e-6);
  });

  test('errors name the argument and the shapes', () => {
    assert.throws(
      () => softTargetCrossEntropy(Tensor.zeros([2, 3]), Tensor.zeros([2, 4])),
      /softTargetCrossEntropy: logits \[2, 3\] and targetProbs \[2, 4\] must have the same shape/,
    );
  });
});

describe('accuracy', () => {
  test('top-1 and top-k fractions, ties to the lower class', () => {
    const logits = Tensor.from([0.1, 0.9, 0.0, 0.5, 0.2, 0.3, 0.3, 0.3, 0.3, 0.9, 0.8, 0.7], [4, 3]);
    // Row argmaxes: 1, 0, 0 (tie: first), 0.
    assert.equal(accuracy(logits, labels([1, 0, 1, 2])), 0.5);
    assert.equal(topKAccuracy(logits, labels([1, 0, 1, 2]), 2), 0.75);
    assert.equal(topKAccuracy(logits, labels([1, 0, 1, 2]), 3), 1);
    assert.throws(() => topKAccuracy(logits, labels([0, 0, 0, 0]), 0), /k must be a positive integer/);
    assert.throws(() => accuracy(logits, labels([0, 0, 0, 5])), /accuracy: label 5 at row 3 is outside \[0, 3\)/);
  });
});
