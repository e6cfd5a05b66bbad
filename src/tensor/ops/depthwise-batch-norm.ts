import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { type BatchNormActivation, checkBatchNormArgs } from './batch-norm.ts';
import { depthwiseGeometry } from './depthwise-conv2d.ts';
import { type BatchNormParams, dataOrEmpty, FusedBatchNorm } from './fused-batch-norm.ts';
import { EMPTY, EMPTY_F64 } from './gemm-grads.ts';

export interface DepthwiseBatchNormOptions {
  /** Same along H and W. Default 1. */
  stride?: 1 | 2;
  /** Zero padding on every side. Default floor(k / 2) per axis. */
  padding?: number;
  /** Weight of the new batch statistic in the running average (PyTorch's convention). */
  momentum?: number;
  eps?: number;
  act?: BatchNormActivation;
}

/**
 * Training-mode act(batchNorm(depthwiseConv2d(x, w))): x [N, H, W, C], w [KH, KW, C]. The same result,
 * running-statistics update and gradients as the two ops, but batch-norm's statistics are taken from
 * each output row as the conv writes it, and backward its input gradient is made a few rows at a time
 * inside the conv's backward pass, never written out: three passes over [N, Ho, Wo, C] fewer per
 * training step (native/src/depthwise_bn.cc).
 */
export function depthwiseBatchNorm(
  x: Tensor,
  w: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: DepthwiseBatchNormOptions = {},
): Tensor {
  const op = 'depthwiseBatchNorm';
  const { momentum = 0.1, eps = 1e-5, act = 'none' } = opts;
  const params = { gamma, beta, runningMean, runningVar };
  const { geometry, outShape } = checkDepthwiseBatchNorm(op, x, w, params, opts);
  const bn = new FusedBatchNorm(params, outShape, { momentum, eps, act });
  depthwiseBnForward(x, w, geometry, bn);
  return bn.result(op, [x, w, gamma, beta], (g) => depthwiseBnBackward(x, w, geometry, bn, g));
}

/** A training-mode depthwise conv's output size, checked (errors name `op`). */
export function checkDepthwiseBatchNorm(
  op: string,
  x: Tensor,
  w: Tensor,
  bn: BatchNormParams,
  opts: DepthwiseBatchNormOptions,
): { geometry: number[]; outShape: number[] } {
  const { momentum = 0.1, eps = 1e-5, act = 'none' } = opts;
  const { geometry, outShape } = depthwiseGeometry(op, x, w, opts);
  checkBatchNormArgs(op, outShape, x.shape[3], bn, momentum, eps, act);
  if (outShape[0] * outShape[1] * outShape[2] < 2) {
    throw new Error(`${op}: training needs more than one value per channel, got output [${outShape.join(', ')}]`);
  }
  return { geometry, outShape };
}

/**
 * The forward kernel: bn.out = act(bn(depthwise(x, w))), statistics saved in bn. With `producer`
 * (whose forward kernel ran without writing its output), x is that output, made here from the
 * producer's z as the conv first reads each row.
 */
export function depthwiseBnForward(
  x: Tensor,
  w: Tensor,
  geometry: number[],
  bn: FusedBatchNorm,
  producer?: FusedBatchNorm,
): void {
  const made = producer ? producer.appliedArgs() : [EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, 0];
  native.depthwiseBnForward(x.f32, w.f32, ...geometry, ...bn.forwardArgs(), ...made);
}

/**
 * x's producer, a batch-norm (x = its output): the backward kernel then also runs the first pass of
 * that batch-norm's backward as it writes x's gradient (native/src/depthwise_bn.cc). The gradient it
 * returns for x is then g act'(.) of the producer, and `gradSums` [2, C] receives its reductions.
 */
export interface DepthwiseBnProducer {
  bn: FusedBatchNorm;
  gradSums: Float64Array;
}

/** The backward kernel: gradients for [x, w, gamma, beta] (null where not required) given g, the gradient of bn.out. */
export function depthwiseBnBackward(
  x: Tensor,
  w: Tensor,
  geometry: number[],
  bn: FusedBatchNorm,
  g: Tensor,
  producer?: DepthwiseBnProducer,
): (Tensor | null)[] {
  // The kernel makes both conv gradients in one pass; one not wanted is dropped.
  const gx = Tensor.empty(x.shape);
  const gw = Tensor.empty(w.shape);
  const { gGamma, gBeta, scratch } = bn.gradBuffers();
  const from = producer?.bn;
  native.depthwiseBnBackward(
    x.f32,
    w.f32,
    bn.z.f32,
    g.f32,
    ...geometry,
    ...bn.savedArgs(),
    bn.code,
    gx.f32,
    gw.f32,
    dataOrEmpty(gGamma),
    dataOrEmpty(gBeta),
    dataOrEmpty(scratch),
    ...(from ? [from.z.f32, ...from.savedArgs(), from.code] : [EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, 0]),
    producer?.gradSums ?? EMPTY_F64,
  );
  scratch?.dispose();
  return [producer ? gx : keepIf(gx, x.requiresGrad), keepIf(gw, w.requiresGrad), gGamma, gBeta];
}

/** t when wanted, else null (t disposed). */
function keepIf(t: Tensor, wanted: boolean): Tensor | null {
  if (wanted) return t;
  t.dispose();
  return null;
}
