import { native } from '../native.ts';
import { record } from '../tape.ts';
import { shapeString, Tensor } from '../tensor.ts';
import { float32, rank } from './check.ts';

/** Squeeze-excite scaling: y[n, h, w, c] = x[n, h, w, c] * s[n, c], for x [N, H, W, C], s [N, C]. */
export function mulChannel(x: Tensor, s: Tensor): Tensor {
  const op = 'mulChannel';
  rank(op, x, 4, 'x');
  rank(op, s, 2, 's');
  float32(op, x, 'x');
  float32(op, s, 's');
  const [N, H, W, C] = x.shape;
  if (s.shape[0] !== N || s.shape[1] !== C) {
    throw new Error(`${op}: s ${shapeString(s.shape)} must be [N, C] = [${N}, ${C}] for x ${shapeString(x.shape)}`);
  }
  const HW = H * W;
  const out = Tensor.empty(x.shape);
  native.mulChannel(x.f32, s.f32, N, HW, C, out.f32);
  return record(op, out, [x, s], (g) => {
    let gx: Tensor | null = null;
    let gs: Tensor | null = null;
    if (x.requiresGrad) {
      gx = Tensor.empty(x.shape);
      native.mulChannel(g.f32, s.f32, N, HW, C, gx.f32);
    }
    if (s.requiresGrad) {
      gs = Tensor.empty(s.shape);
      native.mulChannelGradScale(g.f32, x.f32, N, HW, C, gs.f32);
    }
    return [gx, gs];
  });
}
