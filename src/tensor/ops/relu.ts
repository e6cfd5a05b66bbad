import type { Tensor } from '../tensor.ts';
import { activation } from './activation.ts';

/** max(x, 0); the gradient is 0 at x <= 0 (as in PyTorch). */
export function relu(x: Tensor): Tensor {
  return activation('relu', x, true);
}
