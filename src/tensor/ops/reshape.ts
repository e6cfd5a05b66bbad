import { record } from '../tape.ts';
import { type Shape, shapeString, sizeOf, type Tensor } from '../tensor.ts';

/** A view of x with another shape of the same size (shares storage). One dimension may be -1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1) throw new Error(`reshape: at most one -1 allowed, got ${shapeString(shape)}`);
  const rest = sizeOf(known);
  const resolved = shape.map((d) => (d === -1 ? x.size / rest : d));
  if (resolved.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(resolved) !== x.size) {
    throw new Error(`reshape: cannot view ${shapeString(x.shape)} (${x.size} elements) as ${shapeString(shape)}`);
  }
  const out = x.share(resolved);
  return record('reshape', out, [x], (g) => [g.share(x.shape)]);
}
