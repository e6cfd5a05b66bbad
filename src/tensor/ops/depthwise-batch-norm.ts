import { native } from '../native.ts';
import { needsGrad, record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { type BatchNormActivation, checkBatchNormArgs } from './batch-norm.ts';
import { depthwiseGeometry } from './depthwise-conv2d.ts';
import { dataOrEmpty, FusedBatchNorm } from './fused-batch-norm.ts';

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
  const { geometry, outShape } = depthwiseGeometry(op, x, w, opts);
  const C = x.shape[3];
  checkBatchNormArgs(op, outShape, C, { gamma, beta, runningMean, runningVar }, momentum, eps, act);
  if (outShape[0] * outShape[1] * outShape[2] < 2) {
    throw new Error(`${op}: training needs more than one value per channel, got output [${outShape.join(', ')}]`);
  }
  const bn = new FusedBatchNorm({ gamma, beta, runningMean, runningVar }, outShape, { momentum, eps, act });
  native.depthwiseBnForward(x.f32, w.f32, ...geometry, ...bn.forwardArgs());
  if (!needsGrad([x, w, gamma, beta])) {
    bn.disposeSaved();
    return bn.out;
  }
  bn.snapshot();
  return record(op, bn.out, [x, w, gamma, beta], (g) => {
    // The kernel makes both conv gradients in one pass; one not wanted is dropped.
    const gx = Tensor.empty(x.shape);
    const gw = Tensor.empty(w.shape);
    const { gGamma, gBeta, scratch } = bn.gradBuffers();
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
    );
    scratch?.dispose();
    return [keepIf(gx, x.requiresGrad), keepIf(gw, w.requiresGrad), gGamma, gBeta];
  });
}

/** t when wanted, else null (t disposed). */
function keepIf(t: Tensor, wanted: boolean): Tensor | null {
  if (wanted) return t;
  t.dispose();
  return null;
}
