import {
  depthwiseBatchNorm,
  pointwiseBatchNorm,
  pointwiseDepthwiseBatchNorm,
  sePointwiseBatchNorm,
  type Tensor,
} from '../tensor/index.ts';
import { type Activation, activate } from './activation.ts';
import type { BatchNorm2d } from './batch-norm.ts';
import type { Conv2d } from './conv2d.ts';
import type { SqueezeExcite } from './squeeze-excite.ts';

/** Whether the fused ops can run conv + bn: a 1x1 conv (stride 1, no bias, ungrouped), batch-norm in training. */
function fusable(conv: Conv2d, bn: BatchNorm2d): boolean {
  const pointwise =
    conv.kernel === 1 && conv.stride === 1 && conv.padding === 0 && conv.groups === 1 && conv.bias === null;
  return pointwise && bn.training;
}

/** Whether depthwiseBatchNorm can run conv + bn: a depthwise conv (no bias, stride 1 or 2), batch-norm in training. */
function depthwiseFusable(conv: Conv2d, bn: BatchNorm2d): conv is Conv2d & { stride: 1 | 2 } {
  return conv.depthwise && conv.bias === null && bn.training && (conv.stride === 1 || conv.stride === 2);
}

/** The batch-norm options of the fused ops ('hswish' is applied after them). */
function fusedBnOptions(bn: BatchNorm2d, act: Activation) {
  return { momentum: bn.momentum, eps: bn.eps, act: act === 'hswish' ? ('none' as const) : act };
}

/**
 * act(bn(conv(x))): the conv -> batch-norm -> activation step of every block. In training, a 1x1 conv
 * (stride 1, no bias, ungrouped) and a depthwise conv (no bias) run fused with batch-norm
 * (pointwiseBatchNorm, depthwiseBatchNorm), which saves memory passes over the layer's output;
 * everything else runs the two modules in turn.
 */
export function convBn(conv: Conv2d, bn: BatchNorm2d, x: Tensor, act: Activation = 'none'): Tensor {
  const bnOpts = fusedBnOptions(bn, act);
  let y: Tensor;
  if (fusable(conv, bn)) {
    y = pointwiseBatchNorm(x, conv.weight, bn.weight, bn.bias, bn.runningMean, bn.runningVar, bnOpts);
  } else if (depthwiseFusable(conv, bn)) {
    y = depthwiseBatchNorm(x, conv.weight, bn.weight, bn.bias, bn.runningMean, bn.runningVar, {
      ...bnOpts,
      stride: conv.stride,
      padding: conv.padding,
    });
  } else {
    return bn.forward(conv.forward(x), act);
  }
  return act === 'hswish' ? activate(y, act) : y;
}

/**
 * act(bn2(dw(act(bn1(pw(x)))))): an MBConv block's expansion and depthwise layers. In training, with
 * both convs fusable and an activation the kernels apply ('hswish' is not), they run as one op
 * (pointwiseDepthwiseBatchNorm), whose backward joins the two layers' passes over the gradient
 * between them; otherwise convBn twice.
 */
export function pointwiseDepthwiseBn(
  pw: Conv2d,
  bn1: BatchNorm2d,
  dw: Conv2d,
  bn2: BatchNorm2d,
  x: Tensor,
  act: Activation,
): Tensor {
  if (!fusable(pw, bn1) || !depthwiseFusable(dw, bn2) || act === 'hswish') {
    return convBn(dw, bn2, convBn(pw, bn1, x, act), act);
  }
  const layer = (conv: Conv2d, bn: BatchNorm2d) => ({
    w: conv.weight,
    gamma: bn.weight,
    beta: bn.bias,
    runningMean: bn.runningMean,
    runningVar: bn.runningVar,
    ...fusedBnOptions(bn, act),
  });
  return pointwiseDepthwiseBatchNorm(x, layer(pw, bn1), { ...layer(dw, bn2), stride: dw.stride, padding: dw.padding });
}

/**
 * Fewer pixels per image than this and squeeze-excite runs on its own: the fused op's weight gradient
 * runs one GEMM per image, which at 4x4 (16 rows) was slower than what the fusion saves (fmnist's
 * last stage, [128, 4, 4, 320] -> 96: 0.82-0.87x of the two ops; 7x7 and larger: 1.01-1.19x).
 */
const MIN_FUSED_SE_PIXELS = 32;

/**
 * bn(conv(se(x))): squeeze-excite (when there is one), then the projection conv and its batch-norm,
 * the tail of the MBConv and depthwise-separable blocks. Where convBn would fuse conv and bn, squeeze-
 * excite joins them (sePointwiseBatchNorm), so its output is never written out.
 */
export function seConvBn(se: SqueezeExcite | null, conv: Conv2d, bn: BatchNorm2d, x: Tensor): Tensor {
  if (!se) return convBn(conv, bn, x);
  const { convReduce: reduce, convExpand: expand } = se;
  const pixels = x.shape[1] * x.shape[2];
  const fuse = fusable(conv, bn) && reduce.bias !== null && expand.bias !== null && pixels >= MIN_FUSED_SE_PIXELS;
  if (!fuse) return convBn(conv, bn, se.forward(x));
  const gate = { wReduce: reduce.weight, bReduce: reduce.bias, wExpand: expand.weight, bExpand: expand.bias };
  return sePointwiseBatchNorm(x, gate, conv.weight, bn.weight, bn.bias, bn.runningMean, bn.runningVar, {
    momentum: bn.momentum,
    eps: bn.eps,
  });
}
