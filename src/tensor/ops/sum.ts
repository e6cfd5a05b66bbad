import { native } from '../native.ts';
import { record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { float32 } from './check.ts';

/** The sum of all elements, as a scalar [] tensor (accumulated in double). */
export function sum(x: Tensor): Tensor {
  return reduceAll('sum', x, 1);
}

/** Shared by sum and mean: factor * sum(x), gradient factor * g everywhere. */
export function reduceAll(op: string, x: Tensor, factor: number): Tensor {
  float32(op, x, 'x');
  const out = Tensor.scalar((native.sumAll(x.f32) as number) * factor);
  return record(op, out, [x], (g) => [Tensor.full(x.shape, g.item() * factor)]);
}
