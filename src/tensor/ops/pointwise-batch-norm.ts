import { native } from '../native.ts';
import { shapeString, Tensor } from '../tensor.ts';
import { type BatchNormActivation, checkBatchNormArgs } from './batch-norm.ts';
import { float32, rank } from './check.ts';
import { dataOrEmpty, FusedBatchNorm } from './fused-batch-norm.ts';
import { EMPTY, EMPTY_F64 } from './gemm-grads.ts';

export interface PointwiseBatchNormOptions {
  /** Weight of the new batch statistic in the running average (PyTorch's convention). */
  momentum?: number;
  eps?: number;
  act?: BatchNormActivation;
}

/** The dimensions of a training-mode 1x1 conv + batch-norm, checked; errors name the op and the bad value. */
export function checkPointwiseBatchNorm(
  op: string,
  x: Tensor,
  w: Tensor,
  bn: { gamma: Tensor; beta: Tensor; runningMean: Tensor; runningVar: Tensor },
  opts: Required<PointwiseBatchNormOptions>,
): { m: number; cin: number; cout: number; outShape: number[] } {
  rank(op, x, 4, 'x');
  rank(op, w, 4, 'w');
  float32(op, x, 'x');
  float32(op, w, 'w');
  const [n, h, wd, cin] = x.shape;
  const [kh, kw, wIn, cout] = w.shape;
  if (kh !== 1 || kw !== 1 || wIn !== cin) {
    throw new Error(`${op}: w must be [1, 1, ${cin}, Cout] for x ${shapeString(x.shape)}, got ${shapeString(w.shape)}`);
  }
  const outShape = [n, h, wd, cout];
  checkBatchNormArgs(op, outShape, cout, bn, opts.momentum, opts.eps, opts.act);
  const m = n * h * wd;
  if (m < 2) throw new Error(`${op}: training needs more than one value per channel, got x ${shapeString(x.shape)}`);
  return { m, cin, cout, outShape };
}

/**
 * Training-mode act(batchNorm(conv2d(x, w))) for a 1x1, stride-1, unpadded, bias-free conv:
 * x [N, H, W, Cin], w [1, 1, Cin, Cout]. The same result, running-statistics update and gradients
 * as the two ops, but the conv's GEMM and the normalisation share each L2-sized block of rows, which
 * saves three passes over the [N, H, W, Cout] tensor per training step (native/src/pointwise_bn.cc).
 */
export function pointwiseBatchNorm(
  x: Tensor,
  w: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: PointwiseBatchNormOptions = {},
): Tensor {
  const op = 'pointwiseBatchNorm';
  const { momentum = 0.1, eps = 1e-5, act = 'none' } = opts;
  const params = { gamma, beta, runningMean, runningVar };
  const { outShape, ...dims } = checkPointwiseBatchNorm(op, x, w, params, { momentum, eps, act });
  const bn = new FusedBatchNorm(params, outShape, { momentum, eps, act });
  pointwiseBnForward(x, w, dims, bn);
  return bn.result(op, [x, w, gamma, beta], (g) => pointwiseBnBackward(x, w, dims, bn, g));
}

/** The rows and channels of a pointwise conv: x [m, cin] . w [cin, cout]. */
export interface PointwiseDims {
  m: number;
  cin: number;
  cout: number;
}

/**
 * The forward kernel: bn.out = act(bn(x . w)), statistics saved in bn. Without `writeOut`, bn.out is
 * left for the consumer to make (depthwiseBnForward's producer).
 */
export function pointwiseBnForward(
  x: Tensor,
  w: Tensor,
  dims: PointwiseDims,
  bn: FusedBatchNorm,
  writeOut = true,
): void {
  const { m, cin, cout } = dims;
  native.pointwiseBnForward(
    x.f32,
    w.f32,
    m,
    cin,
    cout,
    ...bn.forwardArgs(writeOut),
    EMPTY, // no squeeze-excite scaling (sePointwiseBatchNorm)
    1,
  );
}

/**
 * The backward kernel: gradients for [x, w, gamma, beta] (null where not required) given g, the
 * gradient of bn.out. With `gradSums`, the first pass of batch-norm's backward is done already
 * (depthwiseBnBackward's producer arguments): g holds g act'(.) and gradSums its reductions.
 */
export function pointwiseBnBackward(
  x: Tensor,
  w: Tensor,
  dims: PointwiseDims,
  bn: FusedBatchNorm,
  g: Tensor,
  gradSums?: Float64Array,
): (Tensor | null)[] {
  const gx = x.requiresGrad ? Tensor.empty(x.shape) : null;
  const gw = w.requiresGrad ? Tensor.empty(w.shape) : null;
  const { gGamma, gBeta, scratch } = gradSums ? { ...bn.affineGradBuffers(), scratch: null } : bn.gradBuffers();
  native.pointwiseBnBackward(
    x.f32,
    w.f32,
    bn.z.f32,
    g.f32,
    dims.m,
    dims.cin,
    dims.cout,
    ...bn.savedArgs(),
    bn.code,
    dataOrEmpty(gx),
    dataOrEmpty(gw),
    dataOrEmpty(gGamma),
    dataOrEmpty(gBeta),
    dataOrEmpty(scratch),
    gradSums ?? EMPTY_F64,
  );
  scratch?.dispose();
  return [gx, gw, gGamma, gBeta];
}
