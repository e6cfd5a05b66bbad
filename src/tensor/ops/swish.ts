import type { Tensor } from '../tensor.ts';
import { activation } from './activation.ts';

/** x * sigmoid(x) (SiLU); the backward recomputes sigmoid from the saved input. */
export function swish(x: Tensor): Tensor {
  return activation('swish', x, false);
}
