import { needsGrad, record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';
import type { BatchNormActivation } from './batch-norm.ts';
import {
  checkDepthwiseBatchNorm,
  type DepthwiseBatchNormOptions,
  depthwiseBnBackward,
  depthwiseBnForward,
} from './depthwise-batch-norm.ts';
import { type BatchNormParams, FusedBatchNorm } from './fused-batch-norm.ts';
import { checkPointwiseBatchNorm, pointwiseBnBackward, pointwiseBnForward } from './pointwise-batch-norm.ts';

/** One conv + training batch-norm + activation layer: the conv's weight, batch-norm's tensors and options. */
export interface ConvBatchNorm extends BatchNormParams {
  w: Tensor;
  momentum?: number;
  eps?: number;
  act?: BatchNormActivation;
}

/**
 * Training-mode depthwiseBatchNorm(pointwiseBatchNorm(x)): an MBConv block's expansion (1x1 conv,
 * w [1, 1, Cin, C]) and depthwise layer (w [KH, KW, C]), each with its batch-norm and activation.
 * The same results, running-statistics updates and gradients as the two ops in turn, with the
 * passes over the [N, H, W, C] tensor between the layers joined (native/src/depthwise_bn.cc):
 * forward, the depthwise conv applies the expansion's batch-norm and activation to each row as it
 * first reads it (the expansion's output is written, never read back); backward, the first pass of
 * the expansion's batch-norm backward runs inside the depthwise backward on each run of gradient
 * rows it has just written, so that gradient is neither read back for that pass nor written again
 * as the activation's derivative.
 */
export function pointwiseDepthwiseBatchNorm(
  x: Tensor,
  pointwise: ConvBatchNorm,
  depthwise: ConvBatchNorm & Pick<DepthwiseBatchNormOptions, 'stride' | 'padding'>,
): Tensor {
  const op = 'pointwiseDepthwiseBatchNorm';
  const pwOpts = bnOptions(pointwise);
  const { outShape, ...dims } = checkPointwiseBatchNorm(op, x, pointwise.w, bnParams(pointwise), pwOpts);
  const pwBn = new FusedBatchNorm(bnParams(pointwise), outShape, pwOpts);
  const mid = pwBn.out;
  const dwOpts = bnOptions(depthwise);
  let checked: { geometry: number[]; outShape: number[] };
  try {
    const { stride, padding } = depthwise;
    checked = checkDepthwiseBatchNorm(op, mid, depthwise.w, bnParams(depthwise), { ...dwOpts, stride, padding });
  } catch (e) {
    pwBn.disposeAll(); // mid was only allocated to check the depthwise layer against
    throw e;
  }
  const { geometry } = checked;
  const dwBn = new FusedBatchNorm(bnParams(depthwise), checked.outShape, dwOpts);
  // mid is written by the depthwise kernel, which applies the expansion's batch-norm and activation
  // to each row as it first reads it: one pass over [N, H, W, C] fewer.
  pointwiseBnForward(x, pointwise.w, dims, pwBn, false);
  depthwiseBnForward(mid, depthwise.w, geometry, dwBn, pwBn);
  const inputs = [x, pointwise.w, pointwise.gamma, pointwise.beta, depthwise.w, depthwise.gamma, depthwise.beta];
  if (!needsGrad(inputs)) {
    pwBn.disposeAll();
    dwBn.disposeSaved();
    return dwBn.out;
  }
  pwBn.snapshot();
  dwBn.snapshot();
  return record(op, dwBn.out, inputs, (g) => {
    const gradSums = new Float64Array(2 * mid.shape[3]);
    // gMid is the gradient of mid times the expansion's activation derivative (see depthwiseBnBackward).
    const [gMid, ...dwGrads] = depthwiseBnBackward(mid, depthwise.w, geometry, dwBn, g, { bn: pwBn, gradSums });
    const pwGrads = pointwiseBnBackward(x, pointwise.w, dims, pwBn, gMid as Tensor, gradSums);
    gMid?.dispose();
    return [...pwGrads, ...dwGrads];
  });
}

function bnParams({ gamma, beta, runningMean, runningVar }: ConvBatchNorm): BatchNormParams {
  return { gamma, beta, runningMean, runningVar };
}

function bnOptions(layer: ConvBatchNorm): { momentum: number; eps: number; act: BatchNormActivation } {
  return { momentum: layer.momentum ?? 0.1, eps: layer.eps ?? 1e-5, act: layer.act ?? 'none' };
}
