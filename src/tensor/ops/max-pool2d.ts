import { native } from '../native.ts';
import { needsGrad, record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { type Pool2dOptions, poolGeometry } from './pool2d.ts';

const NO_ARGMAX = new Int32Array(0);

/**
 * Max pooling over NHWC windows (padding never wins). The gradient goes to the first maximum of
 * each window, whose position the forward records when a backward will follow.
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const { args, outShape } = poolGeometry('maxPool2d', x, opts);
  const out = Tensor.empty(outShape);
  const argmax = needsGrad([x]) ? Tensor.empty(outShape, 'int32') : null;
  native.maxPool2d(x.f32, ...args, out.f32, argmax ? argmax.i32 : NO_ARGMAX);
  if (!argmax) return out;
  return record('maxPool2d', out, [x], (g) => {
    const gx = Tensor.empty(x.shape);
    native.maxPool2dBackward(g.f32, argmax.i32, ...args, gx.f32);
    return [gx];
  });
}
