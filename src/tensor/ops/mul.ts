import { native } from '../native.ts';
import { record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { sameShape } from './check.ts';

/** a * b elementwise, same shapes. */
export function mul(a: Tensor, b: Tensor): Tensor {
  sameShape('mul', a, b);
  const out = Tensor.empty(a.shape);
  native.mul(a.f32, b.f32, out.f32);
  return record('mul', out, [a, b], (g) => {
    const ga = a.requiresGrad ? Tensor.empty(a.shape) : null;
    const gb = b.requiresGrad ? Tensor.empty(b.shape) : null;
    if (ga) native.mul(g.f32, b.f32, ga.f32);
    if (gb) native.mul(g.f32, a.f32, gb.f32);
    return [ga, gb];
  });
}
