import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchNorm2d, Conv2d, InitRandom, SqueezeExcite, seConvBn } from '../../src/nn/index.ts';
import {
  backward,
  getThreads,
  native,
  noGrad,
  pointwiseBatchNorm,
  type SeGateWeights,
  sePointwiseBatchNorm,
  setThreads,
  squeezeExcite,
  type Tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { Tensor as T } from '../../src/tensor/tensor.ts';
import { maxRelDiff, randomBatchNorm, stepResults } from '../helpers/conv-bn.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { assertClose, load, readTorchFixture } from '../helpers/torch-fixture.ts';

const GRAD_NAMES = ['gx', 'gwReduce', 'gbReduce', 'gwExpand', 'gbExpand', 'gw', 'ggamma', 'gbeta'];

interface Layer {
  x: Tensor;
  se: SeGateWeights;
  w: Tensor;
  gamma: Tensor;
  beta: Tensor;
  rm: Tensor;
  rv: Tensor;
  gy: Tensor;
}

function layer(n: number, h: number, c: number, r: number, cout: number, seed: number): Layer {
  const rand = testRandom(seed);
  return {
    // Gate inputs spread over hard-sigmoid's linear part and both flat ends.
    x: randomTensor([n, h, h, c], rand, -3, 3),
    se: {
      wReduce: randomTensor([c, r], rand),
      bReduce: randomTensor([r], rand),
      wExpand: randomTensor([r, c], rand, -2, 2),
      bExpand: randomTensor([c], rand, -2, 2),
    },
    w: randomTensor([1, 1, c, cout], rand, -0.5, 0.5),
    ...randomBatchNorm(cout, rand),
    gy: randomTensor([n, h, h, cout], rand),
  };
}

type Block = (l: Layer, rm: Tensor, rv: Tensor) => Tensor;

const fused: Block = (l, rm, rv) => sePointwiseBatchNorm(l.x, l.se, l.w, l.gamma, l.beta, rm, rv);
const composed: Block = (l, rm, rv) => {
  const { wReduce, bReduce, wExpand, bExpand } = l.se;
  return pointwiseBatchNorm(squeezeExcite(l.x, wReduce, bReduce, wExpand, bExpand), l.w, l.gamma, l.beta, rm, rv);
};

/** Output, the eight gradients and the running statistics after one training step of `f`. */
function trainStep(f: Block, l: Layer): Float32Array[] {
  const params = [l.x, l.se.wReduce, l.se.bReduce, l.se.wExpand, l.se.bExpand, l.w, l.gamma, l.beta];
  const rm = l.rm.clone();
  const rv = l.rv.clone();
  for (const p of params) p.requiresGrad = true;
  let out = new Float32Array(0);
  tidy(() => {
    const y = f(l, rm, rv);
    backward(y, l.gy);
    out = y.f32.slice();
  });
  return stepResults(out, params, [rm, rv]);
}

describe('sePointwiseBatchNorm (squeeze-excite + 1x1 conv + training batch-norm, fused)', () => {
  test('matches PyTorch', () => {
    const c = readTorchFixture('norm_act.json').se_convbn_train;
    const [x, wReduce, bReduce, wExpand, bExpand, w, gamma, beta] = [
      c.x,
      c.wReduce,
      c.bReduce,
      c.wExpand,
      c.bExpand,
      c.w,
      c.gamma,
      c.beta,
    ].map(load);
    const runningMean = load(c.runningMean);
    const runningVar = load(c.runningVar);
    const params = [x, wReduce, bReduce, wExpand, bExpand, w, gamma, beta];
    for (const t of params) t.requiresGrad = true;
    tidy(() => {
      const y = sePointwiseBatchNorm(
        x,
        { wReduce, bReduce, wExpand, bExpand },
        w,
        gamma,
        beta,
        runningMean,
        runningVar,
      );
      assertClose(y, c.y, 1e-4, 1e-4, 'y');
      backward(y, load(c.gy));
    });
    params.forEach((p, i) => {
      assertClose(p.grad!, c[GRAD_NAMES[i]], 2e-4, 2e-4, GRAD_NAMES[i]);
    });
    assertClose(runningMean, c.runningMeanAfter, 1e-6, 1e-6, 'runningMean');
    assertClose(runningVar, c.runningVarAfter, 1e-6, 1e-6, 'runningVar');
  });

  test('gradients match finite differences', () => {
    const l = layer(2, 3, 6, 4, 5, 21);
    const [rm, rv] = [T.zeros([5]), T.full([5], 1)];
    gradCheck(
      ([x, wr, br, we, be, w, g, b]) =>
        sePointwiseBatchNorm(x, { wReduce: wr, bReduce: br, wExpand: we, bExpand: be }, w, g, b, rm, rv),
      [l.x, l.se.wReduce, l.se.bReduce, l.se.wExpand, l.se.bExpand, l.w, l.gamma, l.beta],
      { eps: 1e-2, tolerance: 2e-2, samples: 40 },
    );
  });

  // Row-blocked over two threads with several 7x7 images per block; one small layer (one thread, one
  // block); 28x28 images each split over two blocks; channels off the 8-lane vectors.
  for (const [n, h, c, r, cout] of [
    [32, 7, 160, 40, 80],
    [24, 4, 36, 8, 13],
    [4, 28, 48, 8, 40],
    [5, 14, 20, 8, 12],
  ]) {
    test(`equals squeezeExcite then pointwiseBatchNorm, x [${n}, ${h}, ${h}, ${c}] -> ${cout}`, () => {
      const l = layer(n, h, c, r, cout, n * 100 + c);
      const a = trainStep(fused, l);
      const b = trainStep(composed, l);
      ['y', ...GRAD_NAMES, 'runningMean', 'runningVar'].forEach((name, i) => {
        assert.ok(a[i].length > 0, `${name} is empty`);
        const err = maxRelDiff(a[i], b[i]);
        assert.ok(err < 2e-5, `${name}: max difference ${err.toExponential(2)} of the largest value`);
      });
    });
  }

  // The native kernels given the same gates (the gates' small GEMMs run in dnnl_sgemm, whose
  // rounding follows the thread count, as for every linear layer).
  test('the fused kernels give the same results for 1 and 2 threads', () => {
    const [n, hw, k, cout] = [32, 49, 160, 80]; // row-blocked, two threads
    const m = n * hw;
    const rand = testRandom(5);
    const data = (size: number, lo = -1, hi = 1) => randomTensor([size], rand, lo, hi).f32;
    const [x, w, scale, gy, gPooled] = [data(m * k), data(k * cout), data(n * k, 0, 1), data(m * cout), data(n * k)];
    const [gamma, beta, rm, rv] = [data(cout, 0.5, 1.5), data(cout), data(cout), data(cout, 0.5, 1.5)];
    const run = (threads: number) => {
      const previous = getThreads();
      setThreads(threads);
      try {
        const z = new Float32Array(m * cout);
        const y = new Float32Array(m * cout);
        const [mean, invstd, gw, dgamma, dbeta] = [0, 0, 0, 0, 0].map(
          (_, i) => new Float32Array(i === 2 ? k * cout : cout),
        );
        const [gScale, gx, sums] = [new Float32Array(n * k), new Float32Array(m * k), new Float64Array(2 * cout)];
        native.pointwiseBnForward(
          x,
          w,
          m,
          k,
          cout,
          gamma,
          beta,
          rm.slice(),
          rv.slice(),
          0.1,
          1e-5,
          0,
          z,
          y,
          mean,
          invstd,
          scale,
          hw,
        );
        native.sePointwiseBnBackwardWeights(
          x,
          w,
          z,
          gy,
          m,
          k,
          cout,
          hw,
          scale,
          gamma,
          beta,
          mean,
          invstd,
          gw,
          dgamma,
          dbeta,
          gScale,
          sums,
        );
        native.sePointwiseBnBackwardInput(
          w,
          z,
          gy,
          m,
          k,
          cout,
          hw,
          scale,
          gPooled,
          gamma,
          beta,
          mean,
          invstd,
          sums,
          gx,
        );
        return { y, gw, dgamma, dbeta, gScale, gx };
      } finally {
        setThreads(previous);
      }
    };
    const one = run(1);
    const two = run(2);
    for (const [name, values] of Object.entries(two)) {
      assert.deepEqual(values, one[name as keyof typeof one], `${name} differs between 1 and 2 threads`);
    }
  });

  test('gradients only for the inputs that want them; none recorded without grad', () => {
    const l = layer(2, 4, 8, 4, 6, 7);
    for (const t of [l.se.wReduce, l.se.bReduce, l.se.wExpand, l.se.bExpand]) t.requiresGrad = false;
    l.w.requiresGrad = true;
    l.x.requiresGrad = false;
    tidy(() => {
      const y = sePointwiseBatchNorm(l.x, l.se, l.w, l.gamma, l.beta, l.rm.clone(), l.rv.clone());
      assert.equal(y.node?.op, 'sePointwiseBatchNorm');
      backward(y, l.gy);
      const without = noGrad(() => sePointwiseBatchNorm(l.x, l.se, l.w, l.gamma, l.beta, l.rm.clone(), l.rv.clone()));
      assert.equal(without.node, null);
      assert.deepEqual(without.f32, y.f32);
    });
    assert.ok(l.w.grad, 'w has a gradient');
    assert.equal(l.x.grad, null);
    assert.equal(l.se.wReduce.grad, null);
  });

  test('bad arguments are named', () => {
    const l = layer(2, 4, 8, 4, 6, 8);
    assert.throws(
      () => sePointwiseBatchNorm(l.x, { ...l.se, wExpand: T.zeros([4, 7]) }, l.w, l.gamma, l.beta, l.rm, l.rv),
      /sePointwiseBatchNorm: wExpand \(for wReduce \[8, 4\]\) must have shape \[4, 8\], got \[4, 7\]/,
    );
    assert.throws(
      () => sePointwiseBatchNorm(l.x, l.se, T.zeros([1, 1, 7, 6]), l.gamma, l.beta, l.rm, l.rv),
      /sePointwiseBatchNorm: w must be \[1, 1, 8, Cout\] for x \[2, 4, 4, 8\], got \[1, 1, 7, 6\]/,
    );
    const f = new Float32Array(6);
    assert.throws(
      () =>
        native.sePointwiseBnBackwardInput(
          new Float32Array(48),
          new Float32Array(192),
          new Float32Array(192),
          32,
          8,
          6,
          5,
          ...[f, f, f, f, f, f, f],
          new Float64Array(12),
          new Float32Array(256),
        ),
      /sePointwiseBnBackwardInput: 32 rows are not images of HW = 5 rows/,
    );
  });
});

describe('seConvBn', () => {
  test('training fuses squeeze-excite, conv and batch-norm (images of 32+ pixels); eval runs the modules, with the same result', () => {
    const rand = testRandom(10);
    const rng = new InitRandom(5);
    const se = new SqueezeExcite(12, 8, rng);
    const conv = new Conv2d(12, 10, 1, rng);
    const x = randomTensor([3, 6, 6, 12], rand);
    for (const [training, op] of [
      [true, 'sePointwiseBatchNorm'],
      [false, 'batchNorm'],
    ] as const) {
      const fusedBn = new BatchNorm2d(10);
      const plainBn = new BatchNorm2d(10);
      for (const m of [se, conv, fusedBn, plainBn]) m.train(training);
      tidy(() => {
        const y = seConvBn(se, conv, fusedBn, x);
        assert.equal(y.node?.op, op, `training ${training}: the op that ran`);
        const plain = plainBn.forward(conv.forward(se.forward(x)));
        assert.ok(maxRelDiff(y.f32, plain.f32) < 1e-5, `training ${training}: outputs differ`);
      });
      assert.ok(maxRelDiff(fusedBn.runningVar.f32, plainBn.runningVar.f32) < 1e-6, 'running variance');
    }
    tidy(() => assert.equal(seConvBn(null, conv, new BatchNorm2d(10), x).node?.op, 'pointwiseBatchNorm'));
    // Images under 32 pixels: squeeze-excite on its own, then the fused conv + batch-norm.
    const small = randomTensor([3, 4, 4, 12], rand);
    tidy(() => assert.equal(seConvBn(se, conv, new BatchNorm2d(10), small).node?.op, 'pointwiseBatchNorm'));
  });
});
