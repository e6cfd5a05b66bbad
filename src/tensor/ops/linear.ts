import { native } from '../native.ts';
import { record } from '../tape.ts';
import { shapeString, Tensor } from '../tensor.ts';
import { float32, rank, shapeIs } from './check.ts';

/** Stands in for an absent optional array argument of a kernel. */
const EMPTY = new Float32Array(0);

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
  return record(op, out, [x, w, b], (g) => {
    const gx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    const gw = w.requiresGrad ? Tensor.empty(w.shape) : null;
    const gb = b?.requiresGrad ? Tensor.empty([outF]) : null;
    native.gemmBackward(
      x.f32,
      w.f32,
      g.f32,
      gx ? gx.f32 : EMPTY,
      gw ? gw.f32 : EMPTY,
      gb ? gb.f32 : EMPTY,
      n,
      inF,
      outF,
      gx !== null,
      gw !== null,
      gb !== null,
    );
    return [gx, gw, gb];
  });
}
