import type { Tensor } from '../tensor.ts';
import { activation } from './activation.ts';

/** 1 / (1 + exp(-x)); the backward uses the output: y (1 - y). */
export function sigmoid(x: Tensor): Tensor {
  return activation('sigmoid', x, true);
}
