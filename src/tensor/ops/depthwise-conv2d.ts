import { native } from '../native.ts';
import { record } from '../tape.ts';
import { shapeString, Tensor } from '../tensor.ts';
import { float32, rank } from './check.ts';

export interface DepthwiseConv2dOptions {
  /** Same along H and W. Default 1. */
  stride?: 1 | 2;
  /** Zero padding on every side. Default floor(k / 2) per axis ("same" size at stride 1, odd k). */
  padding?: number;
}

/**
 * The kernels' geometry arguments [N, H, W, C, KH, KW, stride, padH, padW] and the output shape of a
 * depthwise conv of x by w, checked; errors name the op and the bad value.
 */
export function depthwiseGeometry(
  op: string,
  x: Tensor,
  w: Tensor,
  opts: DepthwiseConv2dOptions,
): { geometry: number[]; outShape: number[] } {
  rank(op, x, 4, 'x');
  rank(op, w, 3, 'w');
  float32(op, x, 'x');
  float32(op, w, 'w');
  const [N, H, W, C] = x.shape;
  const [KH, KW, CW] = w.shape;
  if (CW !== C) {
    throw new Error(
      `${op}: w ${shapeString(w.shape)} must have ${C} channels (the last dimension of x ${shapeString(x.shape)})`,
    );
  }
  if (x.size === 0) throw new Error(`${op}: x ${shapeString(x.shape)} must not be empty`);
  const stride = opts.stride ?? 1;
  if (stride !== 1 && stride !== 2) throw new Error(`${op}: stride must be 1 or 2, got ${stride}`);
  const padding = opts.padding;
  if (padding !== undefined && !(Number.isInteger(padding) && padding >= 0)) {
    throw new Error(`${op}: padding must be a non-negative integer, got ${padding}`);
  }
  const padH = padding ?? Math.floor(KH / 2);
  const padW = padding ?? Math.floor(KW / 2);
  if (KH < 1 || KW < 1 || H + 2 * padH < KH || W + 2 * padW < KW) {
    throw new Error(
      `${op}: kernel ${KH}x${KW} (w ${shapeString(w.shape)}) does not fit x ${shapeString(x.shape)} padded by ${padH}/${padW}`,
    );
  }
  const Ho = Math.floor((H + 2 * padH - KH) / stride) + 1;
  const Wo = Math.floor((W + 2 * padW - KW) / stride) + 1;
  return { geometry: [N, H, W, C, KH, KW, stride, padH, padW], outShape: [N, Ho, Wo, C] };
}

/**
 * Depthwise 2-D convolution without bias: x [N, H, W, C], w [KH, KW, C] -> [N, Ho, Wo, C] with
 * Ho = floor((H + 2 * padding - KH) / stride) + 1 (likewise Wo). Each channel is convolved with its
 * own KH x KW filter. Hand-written AVX2 kernels for kernels up to 7x7; a scalar path otherwise.
 */
export function depthwiseConv2d(x: Tensor, w: Tensor, opts: DepthwiseConv2dOptions = {}): Tensor {
  const { geometry, outShape } = depthwiseGeometry('depthwiseConv2d', x, w, opts);
  const y = Tensor.empty(outShape);
  native.depthwiseForward(x.f32, w.f32, y.f32, ...geometry);
  return record('depthwiseConv2d', y, [x, w], (g) => {
    const gx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    const gw = w.requiresGrad ? Tensor.empty(w.shape) : null;
    // Both at once reads the output gradient from memory once.
    if (gx && gw) native.depthwiseBackward(x.f32, g.f32, w.f32, gx.f32, gw.f32, ...geometry);
    else if (gx) native.depthwiseBackwardInput(g.f32, w.f32, gx.f32, ...geometry);
    else if (gw) native.depthwiseBackwardWeight(x.f32, g.f32, gw.f32, ...geometry);
    return [gx, gw];
  });
}
