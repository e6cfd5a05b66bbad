import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';

/** Stands in for an absent optional array argument of a kernel. */
export const EMPTY = new Float32Array(0);
/** The same for a Float64Array argument. */
export const EMPTY_F64 = new Float64Array(0);

/**
 * Gradients of out [m, n] = x [m, k] . w [k, n] (+ bias [n]) for the inputs that require them, in
 * one pass over g: gx = g . w^T, gw = x^T . g, gb = column sums of g. Shared by linear layers and
 * pointwise convs (NHWC 1x1 convs are the same product over pixels).
 */
export function gemmGrads(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null | undefined,
  g: Tensor,
  m: number,
  k: number,
  n: number,
  /** Whether gx is wanted (default: if x requires grad; an op's inner value may need it anyway). */
  wantX = x.requiresGrad,
): [Tensor | null, Tensor | null, Tensor | null] {
  const gx = wantX ? Tensor.empty(x.shape) : null;
  const gw = w.requiresGrad ? Tensor.empty(w.shape) : null;
  const gb = bias?.requiresGrad ? Tensor.empty([n]) : null;
  native.gemmBackward(
    x.f32,
    w.f32,
    g.f32,
    gx ? gx.f32 : EMPTY,
    gw ? gw.f32 : EMPTY,
    gb ? gb.f32 : EMPTY,
    m,
    k,
    n,
    gx !== null,
    gw !== null,
    gb !== null,
  );
  return [gx, gw, gb];
}
