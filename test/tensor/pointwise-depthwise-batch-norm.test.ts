import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchNorm2d, Conv2d, InitRandom, pointwiseDepthwiseBn } from '../../src/nn/index.ts';
import {
  type BatchNormActivation,
  backward,
  depthwiseBatchNorm,
  getThreads,
  native,
  noGrad,
  pointwiseBatchNorm,
  pointwiseDepthwiseBatchNorm,
  setThreads,
  type Tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { Tensor as T } from '../../src/tensor/tensor.ts';
import { maxRelDiff, randomBatchNorm, stepResults } from '../helpers/conv-bn.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';

/** An MBConv block's expansion (1x1 conv cin -> c) and depthwise layer (k x k), with their batch-norms. */
interface Block {
  x: Tensor;
  wPw: Tensor;
  wDw: Tensor;
  bn: { gamma: Tensor; beta: Tensor; rm: Tensor; rv: Tensor }[];
  stride: 1 | 2;
  /** The depthwise conv's padding (default k / 2). */
  padding?: number;
  act: BatchNormActivation;
}

function block(
  n: number,
  h: number,
  cin: number,
  c: number,
  k: number,
  stride: 1 | 2,
  act: BatchNormActivation,
  seed: number,
): Block {
  const rand = testRandom(seed);
  return {
    x: randomTensor([n, h, h, cin], rand),
    wPw: randomTensor([1, 1, cin, c], rand, -0.5, 0.5),
    wDw: randomTensor([k, k, c], rand, -0.5, 0.5),
    bn: [randomBatchNorm(c, rand), randomBatchNorm(c, rand)],
    stride,
    act,
  };
}

type Run = (b: Block, stats: Tensor[]) => Tensor;

const fused: Run = (b, [rm1, rv1, rm2, rv2]) =>
  pointwiseDepthwiseBatchNorm(
    b.x,
    { w: b.wPw, gamma: b.bn[0].gamma, beta: b.bn[0].beta, runningMean: rm1, runningVar: rv1, act: b.act },
    {
      w: b.wDw,
      gamma: b.bn[1].gamma,
      beta: b.bn[1].beta,
      runningMean: rm2,
      runningVar: rv2,
      act: b.act,
      stride: b.stride,
      padding: b.padding,
    },
  );

const twoOps: Run = (b, [rm1, rv1, rm2, rv2]) => {
  const mid = pointwiseBatchNorm(b.x, b.wPw, b.bn[0].gamma, b.bn[0].beta, rm1, rv1, { act: b.act });
  const opts = { act: b.act, stride: b.stride, padding: b.padding };
  return depthwiseBatchNorm(mid, b.wDw, b.bn[1].gamma, b.bn[1].beta, rm2, rv2, opts);
};

function params(b: Block): Tensor[] {
  return [b.x, b.wPw, b.bn[0].gamma, b.bn[0].beta, b.wDw, b.bn[1].gamma, b.bn[1].beta];
}

/** Output, the seven gradients and the four running statistics after one training step of `f`. */
function trainStep(f: Run, b: Block): Float32Array[] {
  const ps = params(b);
  const stats = b.bn.flatMap((s) => [s.rm.clone(), s.rv.clone()]);
  for (const p of ps) p.requiresGrad = true;
  let out = new Float32Array(0);
  tidy(() => {
    const y = f(b, stats);
    out = y.f32.slice();
    backward(y, randomTensor([...y.shape], testRandom(77)));
  });
  return stepResults(out, ps, stats);
}

const NAMES = ['y', 'gx', 'gwPw', 'ggamma1', 'gbeta1', 'gwDw', 'ggamma2', 'gbeta2', 'rm1', 'rv1', 'rm2', 'rv2'];

describe('pointwiseDepthwiseBatchNorm (expansion + depthwise layers, backward joined)', () => {
  // The depthwise kernels' paths: whole images per thread (28 wide, one-row groups; 7 wide), one image
  // (N = 1: the gradient made whole, the first pass after it), 5x5 stride 2, channels off the vectors,
  // unpadded with the last row under no window (the expansion's output made whole before the conv);
  // every activation (swish's derivative from its output on the joined path); the scalar kernels.
  const cases: [number, number, number, number, number, 1 | 2, BatchNormActivation, number?][] = [
    [6, 28, 8, 32, 3, 2, 'swish'],
    [8, 7, 20, 40, 3, 1, 'swish'],
    [1, 10, 6, 17, 3, 1, 'swish'],
    [4, 9, 5, 20, 5, 2, 'relu6'],
    [5, 8, 4, 12, 3, 1, 'relu'],
    [3, 6, 7, 9, 3, 2, 'none'],
    [4, 8, 5, 16, 3, 2, 'swish', 0],
  ];
  for (const scalar of [false, true]) {
    for (const [n, h, cin, c, k, stride, act, padding] of cases) {
      const pad = padding === undefined ? '' : `, padding ${padding}`;
      test(`equals pointwiseBatchNorm then depthwiseBatchNorm (${scalar ? 'scalar' : 'vector'} kernels), x [${n}, ${h}, ${h}, ${cin}] -> ${c}, ${k}x${k}, stride ${stride}${pad}, ${act}`, () => {
        const b = { ...block(n, h, cin, c, k, stride, act, n * 100 + c + k), padding };
        native.depthwiseForceScalar(scalar);
        try {
          const a = trainStep(fused, b);
          const ref = trainStep(twoOps, b);
          NAMES.forEach((name, i) => {
            assert.ok(a[i].length > 0, `${name} is empty`);
            const err = maxRelDiff(a[i], ref[i]);
            assert.ok(err < 2e-5, `${name}: max difference ${err.toExponential(2)} of the largest value`);
          });
        } finally {
          native.depthwiseForceScalar(false);
        }
      });
    }
  }

  test('one thread: the same as the two ops', () => {
    const b = block(4, 14, 8, 24, 3, 2, 'swish', 55);
    const previous = getThreads();
    setThreads(1);
    try {
      const a = trainStep(fused, b);
      const ref = trainStep(twoOps, b);
      NAMES.forEach((name, i) => {
        const err = maxRelDiff(a[i], ref[i]);
        assert.ok(err < 2e-5, `${name}: max difference ${err.toExponential(2)} of the largest value`);
      });
    } finally {
      setThreads(previous);
    }
  });

  test('swish: gradients match finite differences', () => {
    const b = block(2, 5, 3, 6, 3, 2, 'swish', 51);
    const stats = [T.zeros([6]), T.full([6], 1), T.zeros([6]), T.full([6], 1)];
    gradCheck(
      ([x, wPw, g1, b1, wDw, g2, b2]) =>
        fused(
          {
            ...b,
            x,
            wPw,
            wDw,
            bn: [
              { ...b.bn[0], gamma: g1, beta: b1 },
              { ...b.bn[1], gamma: g2, beta: b2 },
            ],
          },
          stats,
        ),
      params(b),
      { eps: 1e-2, tolerance: 2e-2, samples: 40 },
    );
  });

  test("swish's derivative from its output where its input is exactly 0 (the quotient's guard)", () => {
    // Expansion batch-norm input equal to its mean with beta 0: swish's input is 0 there, its output 0.
    const [n, h, c] = [2, 4, 8];
    const size = n * h * h * c;
    const rand = testRandom(61);
    const zIn = randomTensor([size], rand).f32;
    const mean = randomTensor([c], rand, -0.1, 0.1).f32;
    for (let i = 0; i < size; i += 3) zIn[i] = mean[i % c];
    const [gammaIn, betaIn, invstd] = [
      new Float32Array(c).fill(1.2),
      new Float32Array(c),
      new Float32Array(c).fill(0.9),
    ];
    const mid = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const u = (zIn[i] - mean[i % c]) * invstd[i % c] * gammaIn[i % c];
      mid[i] = u / (1 + Math.exp(-u));
    }
    const geometry = [n, h, h, c, 3, 3, 1, 1, 1];
    const w = randomTensor([9 * c], rand).f32;
    const dwStats = () => [
      new Float32Array(c).fill(1),
      new Float32Array(c),
      new Float32Array(c),
      new Float32Array(c).fill(1),
    ];
    const [g2, b2, m2, i2] = dwStats();
    const z = randomTensor([size], rand).f32;
    const dy = randomTensor([size], rand).f32;
    const E = new Float32Array(0);
    const run = (joined: boolean) => {
      const gx = new Float32Array(size);
      const sums = new Float64Array(2 * c);
      const inArgs = joined ? [zIn, gammaIn, betaIn, mean, invstd, 3, sums] : [E, E, E, E, E, 0, new Float64Array(0)];
      native.depthwiseBnBackward(
        mid,
        w,
        z,
        dy,
        ...geometry,
        g2,
        b2,
        m2,
        i2,
        0,
        gx,
        new Float32Array(9 * c),
        E,
        E,
        E,
        ...inArgs,
      );
      return { gx, sums };
    };
    const plain = run(false).gx;
    const { gx, sums } = run(true);
    // The joined pass: gx times swish'(u), and its sums; swish'(0) = 1/2 exactly.
    const sdz = new Float64Array(c);
    for (let i = 0; i < size; i++) {
      const u = (zIn[i] - mean[i % c]) * invstd[i % c] * gammaIn[i % c];
      const s = 1 / (1 + Math.exp(-u));
      const want = plain[i] * s * (1 + u * (1 - s));
      assert.ok(Math.abs(gx[i] - want) <= 1e-6 * (1 + Math.abs(want)), `element ${i}: ${gx[i]} vs ${want}`);
      if (zIn[i] === mean[i % c]) assert.equal(gx[i], Math.fround(plain[i] * 0.5), `element ${i} at u = 0`);
      sdz[i % c] += want;
    }
    for (let ch = 0; ch < c; ch++) assert.ok(Math.abs(sums[ch] - sdz[ch]) < 1e-4, `sum of channel ${ch}`);
  });

  test('gradients only for the inputs that want them; none recorded without grad', () => {
    const b = block(2, 6, 4, 8, 3, 1, 'swish', 71);
    const stats = () => b.bn.flatMap((s) => [s.rm.clone(), s.rv.clone()]);
    b.wDw.requiresGrad = true;
    tidy(() => {
      const y = fused(b, stats());
      assert.equal(y.node?.op, 'pointwiseDepthwiseBatchNorm');
      backward(y, randomTensor([...y.shape], testRandom(72)));
      const without = noGrad(() => fused(b, stats()));
      assert.equal(without.node, null);
      assert.deepEqual(without.f32, y.f32);
    });
    assert.ok(b.wDw.grad, 'the depthwise weights have a gradient');
    for (const p of [b.x, b.wPw, b.bn[0].gamma, b.bn[1].beta]) assert.equal(p.grad, null);
  });

  test('bad arguments are named', () => {
    const b = block(2, 6, 4, 8, 3, 1, 'swish', 81);
    const [rm1, rv1, rm2, rv2] = b.bn.flatMap((s) => [s.rm, s.rv]);
    const pw = { w: b.wPw, gamma: b.bn[0].gamma, beta: b.bn[0].beta, runningMean: rm1, runningVar: rv1 };
    const dw = { w: b.wDw, gamma: b.bn[1].gamma, beta: b.bn[1].beta, runningMean: rm2, runningVar: rv2 };
    assert.throws(
      () => pointwiseDepthwiseBatchNorm(b.x, { ...pw, w: T.zeros([1, 1, 5, 8]) }, dw),
      /pointwiseDepthwiseBatchNorm: w must be \[1, 1, 4, Cout\] for x \[2, 6, 6, 4\], got \[1, 1, 5, 8\]/,
    );
    assert.throws(
      () => pointwiseDepthwiseBatchNorm(b.x, pw, { ...dw, w: T.zeros([3, 3, 7]) }),
      /pointwiseDepthwiseBatchNorm: w \[3, 3, 7\] must have 8 channels/,
    );
    assert.throws(
      () => pointwiseDepthwiseBatchNorm(b.x, pw, { ...dw, gamma: T.zeros([7]) }),
      /pointwiseDepthwiseBatchNorm: gamma \(for x \[2, 6, 6, 8\]\) must have shape \[8\], got \[7\]/,
    );
    const f = new Float32Array(8);
    assert.throws(
      () =>
        native.pointwiseBnBackward(
          ...[b.x.f32, b.wPw.f32, new Float32Array(576), new Float32Array(576)],
          72,
          4,
          8,
          ...[f, f, f, f],
          3,
          ...[new Float32Array(288), new Float32Array(32), f, f, new Float32Array(576)],
          new Float64Array(16),
        ),
      /pointwiseBnBackward: gradSums given, so scratch must be empty/,
    );
  });
});

describe('pointwiseDepthwiseBn', () => {
  test("training joins the two layers with the modules' result; eval and hard-swish run them in turn", () => {
    const x = randomTensor([3, 8, 8, 6], testRandom(91));
    const rng = new InitRandom(7);
    const pw = new Conv2d(6, 12, 1, rng);
    const dw = new Conv2d(12, 12, 3, rng, { stride: 2, groups: 12 });
    for (const [training, act, op] of [
      [true, 'swish', 'pointwiseDepthwiseBatchNorm'],
      [false, 'swish', 'batchNorm'],
      [true, 'hswish', null],
    ] as const) {
      const bns = [new BatchNorm2d(12), new BatchNorm2d(12)];
      const plainBns = [new BatchNorm2d(12), new BatchNorm2d(12)];
      for (const m of [pw, dw, ...bns, ...plainBns]) m.train(training);
      tidy(() => {
        const y = pointwiseDepthwiseBn(pw, bns[0], dw, bns[1], x, act);
        if (op) assert.equal(y.node?.op, op, `training ${training}: the op that ran`);
        const plain = plainBns[1].forward(dw.forward(plainBns[0].forward(pw.forward(x), act)), act);
        assert.ok(maxRelDiff(y.f32, plain.f32) < 1e-5, `training ${training}, ${act}: outputs differ`);
      });
      assert.ok(maxRelDiff(bns[1].runningVar.f32, plainBns[1].runningVar.f32) < 1e-6, 'running variance');
    }
  });
});
