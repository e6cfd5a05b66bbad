import { native } from '../native.ts';
import { record } from '../tape.ts';
import { Tensor } from '../tensor.ts';

/** factor * x for a constant factor. */
export function scale(x: Tensor, factor: number): Tensor {
  if (!Number.isFinite(factor)) throw new Error(`scale: factor must be finite, got ${factor}`);
  const out = Tensor.empty(x.shape);
  native.scale(x.f32, factor, out.f32);
  return record('scale', out, [x], (g) => {
    const gx = Tensor.empty(x.shape);
    native.scale(g.f32, factor, gx.f32);
    return [gx];
  });
}
