import { native } from '../native.ts';
import { needsGrad, record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { ACTIVATION_CODES } from './activation.ts';
import { type BatchNormActivation, checkBatchNormArgs } from './batch-norm.ts';
import { depthwiseGeometry } from './depthwise-conv2d.ts';
import { EMPTY } from './gemm-grads.ts';

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
  const code = ACTIVATION_CODES[act];
  // z = the conv's output, batch-norm's input, kept for the backward pass (as the unfused ops keep it).
  const z = Tensor.empty(outShape);
  const out = Tensor.empty(outShape);
  const mean = Tensor.empty([C]);
  const invstd = Tensor.empty([C]);
  native.depthwiseBnForward(
    x.f32,
    w.f32,
    ...geometry,
    gamma.f32,
    beta.f32,
    runningMean.f32,
    runningVar.f32,
    momentum,
    eps,
    code,
    z.f32,
    out.f32,
    mean.f32,
    invstd.f32,
  );
  if (!needsGrad([x, w, gamma, beta])) {
    for (const t of [z, mean, invstd]) t.dispose();
    return out;
  }
  // Snapshot the affine parameters, as batchNorm does: an optimiser step before backward must not
  // change the gradient.
  const gammaAt = gamma.f32.slice();
  const betaAt = beta.f32.slice();
  return record(op, out, [x, w, gamma, beta], (g) => {
    // The kernel makes both conv gradients in one pass; one not wanted is dropped.
    const gx = Tensor.empty(x.shape);
    const gw = Tensor.empty(w.shape);
    const gGamma = gamma.requiresGrad ? Tensor.empty([C]) : null;
    const gBeta = beta.requiresGrad ? Tensor.empty([C]) : null;
    // Swish's derivative is kept between the kernel's two passes rather than computed twice.
    const scratch = act === 'swish' ? Tensor.empty(outShape) : null;
    native.depthwiseBnBackward(
      x.f32,
      w.f32,
      z.f32,
      g.f32,
      ...geometry,
      gammaAt,
      betaAt,
      mean.f32,
      invstd.f32,
      code,
      gx.f32,
      gw.f32,
      gGamma ? gGamma.f32 : EMPTY,
      gBeta ? gBeta.f32 : EMPTY,
      scratch ? scratch.f32 : EMPTY,
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
