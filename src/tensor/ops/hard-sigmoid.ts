import type { Tensor } from '../tensor.ts';
import { activation } from './activation.ts';

/** relu6(x + 3) / 6; the gradient is 1/6 on (-3, 3), 0 elsewhere. */
export function hardSigmoid(x: Tensor): Tensor {
  return activation('hardSigmoid', x, true);
}
