import { native } from '../native.ts';
import { record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { float32 } from './check.ts';

/**
 * Zeroes each element with probability p and scales the rest by 1 / (1 - p). The mask is a hash of
 * (seed, element index): deterministic for a seed, independent of thread count, and regenerated in
 * backward instead of stored. Identity (sharing x's storage) when !training or p == 0.
 */
export function dropout(x: Tensor, p: number, seed: number, training: boolean): Tensor {
  const op = 'dropout';
  float32(op, x, 'x');
  if (!(p >= 0 && p <= 1)) throw new Error(`${op}: p must be in [0, 1], got ${p}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`${op}: seed must be an integer, got ${seed}`);
  if (!training || p === 0) {
    const out = x.share();
    return record(op, out, [x], (g) => [g.share()]);
  }
  const out = Tensor.empty(x.shape);
  native.dropoutApply(x.f32, p, seed, out.f32);
  return record(op, out, [x], (g) => {
    const gx = Tensor.empty(x.shape);
    native.dropoutApply(g.f32, p, seed, gx.f32);
    return [gx];
  });
}
