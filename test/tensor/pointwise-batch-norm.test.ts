import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchNorm2d, Conv2d, convBn, InitRandom } from '../../src/nn/index.ts';
import {
  type BatchNormActivation,
  backward,
  batchNorm,
  conv2d,
  getThreads,
  native,
  noGrad,
  pointwiseBatchNorm,
  setThreads,
  type Tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { Tensor as T } from '../../src/tensor/tensor.ts';
import { assertConvBnStep, maxRelDiff, randomBatchNorm, stepResults } from '../helpers/conv-bn.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { readTorchFixture } from '../helpers/torch-fixture.ts';

const fixtures = readTorchFixture('norm_act.json');
const ACTS: BatchNormActivation[] = ['none', 'relu', 'relu6', 'swish'];

/** Output, the four gradients and the running statistics of one training step of `f`. */
function trainStep(
  f: (x: Tensor, w: Tensor, g: Tensor, b: Tensor, rm: Tensor, rv: Tensor) => Tensor,
  inputs: { x: Tensor; w: Tensor; gamma: Tensor; beta: Tensor; rm: Tensor; rv: Tensor; gy: Tensor },
): Float32Array[] {
  const { x, w, gamma, beta, gy } = inputs;
  const rm = inputs.rm.clone();
  const rv = inputs.rv.clone();
  const params = [x, w, gamma, beta];
  for (const p of params) p.requiresGrad = true;
  let out = new Float32Array(0);
  tidy(() => {
    const y = f(x, w, gamma, beta, rm, rv);
    backward(y, gy);
    out = y.f32.slice();
  });
  return stepResults(out, params, [rm, rv]);
}

/**
 * Inputs of a layer tall enough for the row-blocked, multi-threaded path: M = 2*61*67 = 8174 pixels
 * (several L2 blocks per thread, uneven splits), Cout 36 (not a multiple of the 8-lane vectors).
 */
function tallLayer(seed: number) {
  const rand = testRandom(seed);
  const [cin, cout] = [16, 36];
  return {
    x: randomTensor([2, 61, 67, cin], rand),
    w: randomTensor([1, 1, cin, cout], rand, -0.5, 0.5),
    ...randomBatchNorm(cout, rand),
    gy: randomTensor([2, 61, 67, cout], rand),
  };
}

describe('pointwiseBatchNorm (1x1 conv + training batch-norm + act, fused)', () => {
  for (const act of ACTS) {
    const c = fixtures[`convbn_train_${act}`];
    test(`matches PyTorch: ${act}`, () => {
      assertConvBnStep(c, (x, w, gamma, beta, rm, rv) => pointwiseBatchNorm(x, w, gamma, beta, rm, rv, { act }));
    });
  }

  // The smooth activations: a finite difference across relu's kinks measures nothing (relu and
  // relu6 are checked against PyTorch above).
  for (const act of ['none', 'swish'] as const) {
    test(`${act}: gradients match finite differences`, () => {
      const rand = testRandom(act === 'swish' ? 3 : 4);
      const x = randomTensor([2, 3, 4, 5], rand);
      const w = randomTensor([1, 1, 5, 7], rand);
      const gamma = randomTensor([7], rand, 0.5, 1.5);
      const beta = randomTensor([7], rand, -0.5, 0.5);
      const rm = T.zeros([7]);
      const rv = T.full([7], 1);
      gradCheck(([xi, wi, g, b]) => pointwiseBatchNorm(xi, wi, g, b, rm, rv, { act }), [x, w, gamma, beta], {
        eps: 1e-2,
        tolerance: 2e-2,
        samples: 40,
      });
    });
  }

  test('the row-blocked, multi-threaded path equals conv2d then batchNorm', () => {
    const base = tallLayer(11);
    for (const act of ['swish', 'relu6'] as const) {
      const fused = trainStep((x, w, g, b, rm, rv) => pointwiseBatchNorm(x, w, g, b, rm, rv, { act }), base);
      const plain = trainStep(
        (x, w, g, b, rm, rv) => batchNorm(conv2d(x, w), g, b, rm, rv, { training: true, act }),
        base,
      );
      ['y', 'gx', 'gw', 'ggamma', 'gbeta', 'runningMean', 'runningVar'].forEach((name, i) => {
        const err = maxRelDiff(fused[i], plain[i]);
        assert.ok(err < 2e-5, `${act} ${name}: max difference ${err.toExponential(2)} of the largest value`);
      });
    }
  });

  test('results do not depend on the thread count (partial sums per fixed chunk, added in order)', () => {
    const base = tallLayer(12);
    const threads = getThreads();
    const run = (n: number) => {
      setThreads(n);
      try {
        return trainStep((x, w, g, b, rm, rv) => pointwiseBatchNorm(x, w, g, b, rm, rv, { act: 'swish' }), base);
      } finally {
        setThreads(threads);
      }
    };
    const one = run(1);
    const two = run(2);
    ['y', 'gx', 'gw', 'ggamma', 'gbeta', 'runningMean', 'runningVar'].forEach((name, i) => {
      assert.deepEqual(two[i], one[i], `${name} differs between 1 and 2 threads`);
    });
  });

  test('without gradients it records nothing and gives the same output', () => {
    const rand = testRandom(8);
    const x = randomTensor([2, 4, 4, 3], rand);
    const w = randomTensor([1, 1, 3, 5], rand).asParameter();
    const gamma = T.full([5], 1).asParameter();
    const beta = T.zeros([5]).asParameter();
    const [rm, rv] = [T.zeros([5]), T.full([5], 1)];
    tidy(() => {
      const withGrad = pointwiseBatchNorm(x, w, gamma, beta, rm, rv, { act: 'swish' });
      const without = noGrad(() => pointwiseBatchNorm(x, w, gamma, beta, rm, rv, { act: 'swish' }));
      assert.equal(withGrad.node?.op, 'pointwiseBatchNorm');
      assert.equal(without.requiresGrad, false);
      assert.equal(without.node, null);
      assert.deepEqual(without.f32, withGrad.f32);
    });
  });

  test('bad arguments are named', () => {
    const x = T.zeros([2, 4, 4, 3]);
    const ones = T.full([5], 1);
    const zeros = T.zeros([5]);
    assert.throws(
      () => pointwiseBatchNorm(x, T.zeros([3, 3, 3, 5]), ones, zeros, zeros, ones),
      /pointwiseBatchNorm: w must be \[1, 1, 3, Cout\] for x \[2, 4, 4, 3\], got \[3, 3, 3, 5\]/,
    );
    assert.throws(
      () => pointwiseBatchNorm(x, T.zeros([1, 1, 4, 5]), ones, zeros, zeros, ones),
      /w must be \[1, 1, 3, Cout\]/,
    );
    assert.throws(
      () => pointwiseBatchNorm(x, T.zeros([1, 1, 3, 5]), T.full([4], 1), zeros, zeros, ones),
      /pointwiseBatchNorm: gamma \(for x \[2, 4, 4, 5\]\) must have shape \[5\], got \[4\]/,
    );
    assert.throws(
      () => pointwiseBatchNorm(T.zeros([1, 1, 1, 3]), T.zeros([1, 1, 3, 5]), ones, zeros, zeros, ones),
      /training needs more than one value per channel/,
    );
    assert.throws(
      () => pointwiseBatchNorm(x, T.zeros([1, 1, 3, 5]), ones, zeros, zeros, ones, { eps: 0 }),
      /eps must be positive, got 0/,
    );
    assert.throws(
      () =>
        native.pointwiseBnForward(
          new Float32Array(6),
          new Float32Array(10),
          2,
          3,
          4,
          ...Array.from({ length: 4 }, () => new Float32Array(4)),
          0.1,
          1e-5,
          0,
          new Float32Array(8),
          new Float32Array(8),
          new Float32Array(4),
          new Float32Array(4),
        ),
      /pointwiseBnForward: w has 10 elements, expected 12/,
    );
  });
});

describe('convBn', () => {
  test("training runs the fused op with the modules' result; eval and other convs run the modules", () => {
    const rand = testRandom(9);
    const conv = new Conv2d(6, 10, 1, new InitRandom(3));
    const x = randomTensor([3, 5, 5, 6], rand);
    for (const [training, act, op] of [
      [true, 'swish', 'pointwiseBatchNorm'],
      [true, 'hswish', 'mul'],
      [false, 'swish', 'batchNorm'],
    ] as const) {
      const fusedBn = new BatchNorm2d(10);
      const plainBn = new BatchNorm2d(10);
      for (const m of [conv, fusedBn, plainBn]) m.train(training);
      tidy(() => {
        const fused = convBn(conv, fusedBn, x, act);
        assert.equal(fused.node?.op, op, `training ${training}, ${act}: the op that ran`);
        const plain = plainBn.forward(conv.forward(x), act);
        assert.ok(maxRelDiff(fused.f32, plain.f32) < 1e-5, `training ${training}, ${act}: outputs differ`);
      });
      assert.ok(maxRelDiff(fusedBn.runningVar.f32, plainBn.runningVar.f32) < 1e-6, 'running variance');
    }
    const conv3 = new Conv2d(6, 10, 3, new InitRandom(4));
    const bn = new BatchNorm2d(10);
    tidy(() => assert.equal(convBn(conv3, bn, x, 'relu').node?.op, 'batchNorm'));
  });
});
