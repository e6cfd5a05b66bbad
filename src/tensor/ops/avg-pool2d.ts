import { native } from '../native.ts';
import { record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { type Pool2dOptions, poolGeometry } from './pool2d.ts';

/** Average pooling over NHWC windows; padding counts towards the divisor (count_include_pad). */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const { args, outShape } = poolGeometry('avgPool2d', x, opts);
  const out = Tensor.empty(outShape);
  native.avgPool2d(x.f32, ...args, out.f32);
  return record('avgPool2d', out, [x], (g) => {
    const gx = Tensor.empty(x.shape);
    native.avgPool2dBackward(g.f32, ...args, gx.f32);
    return [gx];
  });
}
