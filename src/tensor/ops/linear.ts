import { native } from '../native.ts';
import { record } from '../tape.ts';
import { shapeString, Tensor } from '../tensor.ts';
import { float32, rank, shapeIs } from './check.ts';
import { EMPTY, gemmGrads } from './gemm-grads.ts';

/**
 * Fully connected layer: x [N, in] . w [in, out] + b [out] -> [N, out] (classifier, SE block
 * convs on pooled vectors, meta network). Weights are [in, out], the transpose of PyTorch's.
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  const op = 'linear';
  rank(op, x, 2, 'x');
  rank(op, w, 2, 'w');
  float32(op, x, 'x');
  float32(op, w, 'w');
  const [n, inF] = x.shape;
  const outF = w.shape[1];
  if (w.shape[0] !== inF) {
    throw new Error(`${op}: w ${shapeString(w.shape)} must have ${inF} rows to match x ${shapeString(x.shape)}`);
  }
  if (b) {
    float32(op, b, 'b');
    shapeIs(op, b, [outF], 'b');
  }
  const out = Tensor.empty([n, outF]);
  native.gemmForward(x.f32, w.f32, b ? b.f32 : EMPTY, out.f32, n, inF, outF, b !== null);
  return record(op, out, [x, w, b], (g) => gemmGrads(x, w, b, g, n, inF, outF));
}
