import { native } from '../native.ts';
import { record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { sameShape } from './check.ts';

/** a + b, same shapes (residual connections, loss terms). */
export function add(a: Tensor, b: Tensor): Tensor {
  sameShape('add', a, b);
  const out = Tensor.empty(a.shape);
  native.add(a.f32, b.f32, out.f32);
  return record('add', out, [a, b], (g) => [g.share(), g.share()]);
}
