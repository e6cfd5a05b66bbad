import { native } from '../native.ts';
import { record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { float32, rank } from './check.ts';

/** Row-wise softmax of x [N, C] (max-subtracted, so large logits do not overflow). */
export function softmax(x: Tensor): Tensor {
  return softmaxRows('softmax', x, false);
}

/** The shared body of softmax and logSoftmax; backward reads the output. */
export function softmaxRows(op: string, x: Tensor, log: boolean): Tensor {
  rank(op, x, 2, 'x');
  float32(op, x, 'x');
  const [N, C] = x.shape;
  if (N === 0 || C === 0) throw new Error(`${op}: x must not be empty, got shape [${N}, ${C}]`);
  const out = Tensor.empty(x.shape);
  native.softmaxRows(x.f32, N, C, out.f32, log);
  return record(op, out, [x], (g) => {
    const gx = Tensor.empty(x.shape);
    native.softmaxRowsBackward(out.f32, g.f32, N, C, gx.f32, log);
    return [gx];
  });
}
