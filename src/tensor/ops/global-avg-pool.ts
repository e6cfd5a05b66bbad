import { native } from '../native.ts';
import { record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { float32, rank } from './check.ts';

/** Mean over the spatial axes: x [N, H, W, C] -> [N, C] (squeeze-excite, classifier head). */
export function globalAvgPool(x: Tensor): Tensor {
  const op = 'globalAvgPool';
  rank(op, x, 4, 'x');
  float32(op, x, 'x');
  const [N, H, W, C] = x.shape;
  if (x.size === 0) throw new Error(`${op}: x must not be empty, got shape [${x.shape.join(', ')}]`);
  const out = Tensor.empty([N, C]);
  native.globalAvgPool(x.f32, N, H * W, C, out.f32);
  return record(op, out, [x], (g) => {
    const gx = Tensor.empty(x.shape);
    native.globalAvgPoolBackward(g.f32, N, H * W, C, gx.f32);
    return [gx];
  });
}
