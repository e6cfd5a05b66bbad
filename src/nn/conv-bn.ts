import { pointwiseBatchNorm, type Tensor } from '../tensor/index.ts';
import { type Activation, activate } from './activation.ts';
import type { BatchNorm2d } from './batch-norm.ts';
import type { Conv2d } from './conv2d.ts';

/**
 * act(bn(conv(x))): the conv -> batch-norm -> activation step of every block. A 1x1 conv (stride 1,
 * no bias, ungrouped) normalised in training mode runs as one fused op (pointwiseBatchNorm), which
 * saves memory passes over the layer's output; everything else runs the two modules in turn.
 */
export function convBn(conv: Conv2d, bn: BatchNorm2d, x: Tensor, act: Activation = 'none'): Tensor {
  const pointwise =
    conv.kernel === 1 && conv.stride === 1 && conv.padding === 0 && conv.groups === 1 && conv.bias === null;
  if (!pointwise || !bn.training) return bn.forward(conv.forward(x), act);
  const y = pointwiseBatchNorm(x, conv.weight, bn.weight, bn.bias, bn.runningMean, bn.runningVar, {
    momentum: bn.momentum,
    eps: bn.eps,
    act: act === 'hswish' ? 'none' : act,
  });
  return act === 'hswish' ? activate(y, act) : y;
}
