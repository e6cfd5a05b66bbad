import type { Tensor } from '../tensor.ts';
import { activation } from './activation.ts';

/** min(max(x, 0), 6); the gradient is 1 on (0, 6), 0 elsewhere. */
export function relu6(x: Tensor): Tensor {
  return activation('relu6', x, true);
}
