import { native } from '../native.ts';
import { record } from '../tape.ts';
import { shapeString, Tensor } from '../tensor.ts';
import { float32, rank, shapeIs } from './check.ts';

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
  if (b) native.gemmBiasFill(out.f32, b.f32, n, outF);
  native.sgemm(false, false, n, outF, inF, 1, x.f32, inF, w.f32, outF, b ? 1 : 0, out.f32, outF);
  return record(op, out, [x, w, b], (g) => {
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (x.requiresGrad) {
      gx = Tensor.empty(x.shape);
      native.sgemm(false, true, n, inF, outF, 1, g.f32, outF, w.f32, outF, 0, gx.f32, inF);
    }
    if (w.requiresGrad) {
      gw = Tensor.empty(w.shape);
      native.sgemm(true, false, inF, outF, n, 1, x.f32, inF, g.f32, outF, 0, gw.f32, outF);
    }
    if (b?.requiresGrad) {
      gb = Tensor.empty([outF]);
      native.gemmBiasGrad(g.f32, gb.f32, n, outF);
    }
    return [gx, gw, gb];
  });
}
