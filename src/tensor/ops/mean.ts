import type { Tensor } from '../tensor.ts';
import { reduceAll } from './sum.ts';

/** The mean of all elements, as a scalar [] tensor (accumulated in double). */
export function mean(x: Tensor): Tensor {
  if (x.size === 0) throw new Error(`mean: x must not be empty, got shape [${x.shape.join(', ')}]`);
  return reduceAll('mean', x, 1 / x.size);
}
