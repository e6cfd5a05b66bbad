import type { Tensor } from '../tensor.ts';
import { softmaxRows } from './softmax.ts';

/** Row-wise log(softmax(x)) of x [N, C], computed as x - max - log(sum(exp(x - max))). */
export function logSoftmax(x: Tensor): Tensor {
  return softmaxRows('logSoftmax', x, true);
}
