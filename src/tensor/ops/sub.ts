import { native } from '../native.ts';
import { record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { sameShape } from './check.ts';

/** a - b, same shapes. */
export function sub(a: Tensor, b: Tensor): Tensor {
  sameShape('sub', a, b);
  const out = Tensor.empty(a.shape);
  native.sub(a.f32, b.f32, out.f32);
  return record('sub', out, [a, b], (g) => {
    const gb = Tensor.empty(g.shape);
    native.scale(g.f32, -1, gb.f32);
    return [g.share(), gb];
  });
}
