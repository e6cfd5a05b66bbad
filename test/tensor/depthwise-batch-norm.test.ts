import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchNorm2d, Conv2d, convBn, InitRandom } from '../../src/nn/index.ts';
import {
  type BatchNormActivation,
  backward,
  batchNorm,
  depthwiseBatchNorm,
  depthwiseConv2d,
  native,
  noGrad,
  type Tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { Tensor as T } from '../../src/tensor/tensor.ts';
import { assertConvBnStep, maxRelDiff, randomBatchNorm, stepResults } from '../helpers/conv-bn.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { readTorchFixture } from '../helpers/torch-fixture.ts';

interface Layer {
  x: Tensor;
  w: Tensor;
  gamma: Tensor;
  beta: Tensor;
  rm: Tensor;
  rv: Tensor;
  stride: 1 | 2;
}

function layer(n: number, h: number, c: number, k: number, stride: 1 | 2, seed: number): Layer {
  const rand = testRandom(seed);
  return {
    x: randomTensor([n, h, h, c], rand),
    w: randomTensor([k, k, c], rand, -0.5, 0.5),
    ...randomBatchNorm(c, rand),
    stride,
  };
}

type Run = (l: Layer, rm: Tensor, rv: Tensor) => Tensor;

/** Output, the four gradients and the running statistics after one training step of `f`. */
function trainStep(f: Run, l: Layer): Float32Array[] {
  const params = [l.x, l.w, l.gamma, l.beta];
  const rm = l.rm.clone();
  const rv = l.rv.clone();
  for (const p of params) p.requiresGrad = true;
  let out = new Float32Array(0);
  tidy(() => {
    const y = f(l, rm, rv);
    out = y.f32.slice();
    backward(y, randomTensor([...y.shape], testRandom(99)));
  });
  return stepResults(out, params, [rm, rv]);
}

const NAMES = ['y', 'gx', 'gw', 'ggamma', 'gbeta', 'runningMean', 'runningVar'];

describe('depthwiseBatchNorm (depthwise conv + training batch-norm + act, fused)', () => {
  for (const name of ['dwbn_train_swish_k3_s1', 'dwbn_train_relu6_k5_s2']) {
    test(`matches PyTorch: ${name}`, () => {
      const c = readTorchFixture('norm_act.json')[name];
      const stride = c.params.data[1] as 1 | 2;
      const act = name.split('_')[2] as BatchNormActivation;
      assertConvBnStep(c, (x, w, g, b, rm, rv) => depthwiseBatchNorm(x, w, g, b, rm, rv, { stride, act }));
    });
  }

  for (const act of ['none', 'swish'] as const) {
    test(`${act}: gradients match finite differences`, () => {
      const l = layer(2, 5, 6, 3, 2, act === 'swish' ? 31 : 32);
      const [rm, rv] = [T.zeros([6]), T.full([6], 1)];
      gradCheck(
        ([x, w, g, b]) => depthwiseBatchNorm(x, w, g, b, rm, rv, { stride: 2, act }),
        [l.x, l.w, l.gamma, l.beta],
        { eps: 1e-2, tolerance: 2e-2, samples: 40 },
      );
    });
  }

  // The vector kernels' fused paths: one-row groups (28 wide), several rows per group (7 wide), an
  // image per thread at most (N = 1: the gradient made whole first), 5x5 and 7x7 kernels, channels off
  // the 16-lane blocks; and the scalar kernels (9x9, and all of them when forced).
  const cases: [number, number, number, number, 1 | 2, BatchNormActivation][] = [
    [6, 28, 16, 3, 1, 'swish'],
    [8, 14, 40, 3, 2, 'relu6'],
    [5, 7, 36, 5, 1, 'none'],
    [4, 9, 20, 7, 2, 'swish'],
    [1, 10, 17, 3, 1, 'relu'],
    [2, 6, 8, 9, 1, 'swish'],
  ];
  for (const scalar of [false, true]) {
    for (const [n, h, c, k, stride, act] of cases) {
      test(`equals depthwiseConv2d then batchNorm (${scalar ? 'scalar' : 'vector'} kernels), x [${n}, ${h}, ${h}, ${c}], ${k}x${k}, stride ${stride}, ${act}`, () => {
        const l = layer(n, h, c, k, stride, n * 100 + c + k);
        native.depthwiseForceScalar(scalar);
        try {
          const fused = trainStep(
            (l, rm, rv) => depthwiseBatchNorm(l.x, l.w, l.gamma, l.beta, rm, rv, { stride, act }),
            l,
          );
          const plain = trainStep(
            (l, rm, rv) =>
              batchNorm(depthwiseConv2d(l.x, l.w, { stride }), l.gamma, l.beta, rm, rv, { training: true, act }),
            l,
          );
          NAMES.forEach((name, i) => {
            const err = maxRelDiff(fused[i], plain[i]);
            assert.ok(err < 2e-5, `${name}: max difference ${err.toExponential(2)} of the largest value`);
          });
        } finally {
          native.depthwiseForceScalar(false);
        }
      });
    }
  }

  test('without gradients it records nothing and gives the same output', () => {
    const l = layer(2, 6, 8, 3, 1, 41);
    for (const t of [l.w, l.gamma, l.beta]) t.requiresGrad = true;
    tidy(() => {
      const withGrad = depthwiseBatchNorm(l.x, l.w, l.gamma, l.beta, l.rm.clone(), l.rv.clone(), { act: 'swish' });
      const without = noGrad(() =>
        depthwiseBatchNorm(l.x, l.w, l.gamma, l.beta, l.rm.clone(), l.rv.clone(), { act: 'swish' }),
      );
      assert.equal(withGrad.node?.op, 'depthwiseBatchNorm');
      assert.equal(without.node, null);
      assert.deepEqual(without.f32, withGrad.f32);
    });
  });

  test('bad arguments are named', () => {
    const l = layer(2, 6, 8, 3, 1, 42);
    assert.throws(
      () => depthwiseBatchNorm(l.x, T.zeros([3, 3, 7]), l.gamma, l.beta, l.rm, l.rv),
      /depthwiseBatchNorm: w \[3, 3, 7\] must have 8 channels/,
    );
    assert.throws(
      () => depthwiseBatchNorm(l.x, l.w, T.zeros([7]), l.beta, l.rm, l.rv),
      /depthwiseBatchNorm: gamma \(for x \[2, 6, 6, 8\]\) must have shape \[8\], got \[7\]/,
    );
    assert.throws(
      () => depthwiseBatchNorm(T.zeros([1, 1, 1, 8]), l.w, l.gamma, l.beta, l.rm, l.rv),
      /training needs more than one value per channel/,
    );
    assert.throws(
      () => depthwiseBatchNorm(l.x, l.w, l.gamma, l.beta, l.rm, l.rv, { stride: 3 as 2 }),
      /depthwiseBatchNorm: stride must be 1 or 2, got 3/,
    );
  });
});

describe('convBn with a depthwise conv', () => {
  test("training runs depthwiseBatchNorm with the modules' result; eval runs the modules", () => {
    const x = randomTensor([3, 8, 8, 12], testRandom(43));
    const conv = new Conv2d(12, 12, 5, new InitRandom(6), { stride: 2, groups: 12 });
    for (const [training, op] of [
      [true, 'depthwiseBatchNorm'],
      [false, 'batchNorm'],
    ] as const) {
      const fusedBn = new BatchNorm2d(12);
      const plainBn = new BatchNorm2d(12);
      for (const m of [conv, fusedBn, plainBn]) m.train(training);
      tidy(() => {
        const y = convBn(conv, fusedBn, x, 'swish');
        assert.equal(y.node?.op, op, `training ${training}: the op that ran`);
        const plain = plainBn.forward(conv.forward(x), 'swish');
        assert.ok(maxRelDiff(y.f32, plain.f32) < 1e-5, `training ${training}: outputs differ`);
      });
      assert.ok(maxRelDiff(fusedBn.runningVar.f32, plainBn.runningVar.f32) < 1e-6, 'running variance');
    }
  });
});
