// Window geometry shared by avgPool2d and maxPool2d (PyTorch semantics, floor mode).
import { shapeString, type Tensor } from '../tensor.ts';
import { float32, rank } from './check.ts';

export interface Pool2dOptions {
  /** Window size, square or [height, width]. */
  kernel: number | readonly [number, number];
  /** Step between windows; defaults to the kernel (as in PyTorch). */
  stride?: number | readonly [number, number];
  /** Symmetric zero padding, at most half the kernel; defaults to 0. */
  padding?: number | readonly [number, number];
}

/** Native argument order: N, H, W, C, KH, KW, SH, SW, PH, PW. */
export interface PoolGeometry {
  args: [number, number, number, number, number, number, number, number, number, number];
  outShape: [number, number, number, number];
}

function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export function poolGeometry(op: string, x: Tensor, opts: Pool2dOptions): PoolGeometry {
  rank(op, x, 4, 'x');
  float32(op, x, 'x');
  const [N, H, W, C] = x.shape;
  const [kh, kw] = pair(opts.kernel);
  const [sh, sw] = pair(opts.stride ?? opts.kernel);
  const [ph, pw] = pair(opts.padding ?? 0);
  const ints = (vals: number[], min: number) => vals.every((v) => Number.isInteger(v) && v >= min);
  if (!ints([kh, kw, sh, sw], 1) || !ints([ph, pw], 0)) {
    throw new Error(
      `${op}: kernel and stride must be positive integers and padding a non-negative integer, got kernel [${kh}, ${kw}], stride [${sh}, ${sw}], padding [${ph}, ${pw}]`,
    );
  }
  if (2 * ph > kh || 2 * pw > kw) {
    throw new Error(`${op}: padding [${ph}, ${pw}] must be at most half the kernel [${kh}, ${kw}]`);
  }
  if (H + 2 * ph < kh || W + 2 * pw < kw) {
    throw new Error(
      `${op}: kernel [${kh}, ${kw}] is larger than x ${shapeString(x.shape)} with padding [${ph}, ${pw}]`,
    );
  }
  if (x.size === 0) throw new Error(`${op}: x must not be empty, got shape ${shapeString(x.shape)}`);
  const oh = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((W + 2 * pw - kw) / sw) + 1;
  return { args: [N, H, W, C, kh, kw, sh, sw, ph, pw], outShape: [N, oh, ow, C] };
}
