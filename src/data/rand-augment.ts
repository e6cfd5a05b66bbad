// RandAugment (Cubuk et al. 2020) as timm implements it for retraining: pick `ops` operations at
// random (with replacement), apply each with `probability`, all at one global `magnitude` on a
// 0..10 scale, optionally jittered by a normal with std `magnitudeStd`. Magnitudes map to the same
// strengths as timm's "increasing" transforms, so `rand-m9-n2-mstd0.5` there is
// {ops: 2, magnitude: 9, magnitudeStd: 0.5} here. Only operations that make sense on small grey
// or RGB images are offered (no SolarizeAdd; Invert only on request).

import * as px from './pixel-ops.ts';
import type { Rng } from './rng.ts';

export const RAND_AUGMENT_OPS = [
  'identity',
  'autoContrast',
  'equalize',
  'invert',
  'rotate',
  'solarize',
  'posterize',
  'color',
  'contrast',
  'brightness',
  'sharpness',
  'shearX',
  'shearY',
  'translateX',
  'translateY',
] as const;

export type RandAugmentOp = (typeof RAND_AUGMENT_OPS)[number];

/** The default operation list: everything but invert, which turns Fashion-MNIST's black background white. */
export const DEFAULT_RAND_AUGMENT_OPS: RandAugmentOp[] = RAND_AUGMENT_OPS.filter((op) => op !== 'invert');

export interface RandAugmentOptions {
  /** Operations applied per image (timm's n; default 2). */
  ops: number;
  /** Strength 0..10 (timm's m; 9 is the common choice). */
  magnitude: number;
  /** Std of per-operation magnitude noise (timm's mstd; default 0). */
  magnitudeStd?: number;
  /** Probability of applying each chosen operation (default 0.5, as timm). */
  probability?: number;
  /** Operations to choose from (default {@link DEFAULT_RAND_AUGMENT_OPS}). */
  choices?: RandAugmentOp[];
}

const MAX_LEVEL = 10;

export function checkRandAugmentOptions(o: RandAugmentOptions): void {
  if (!(Number.isInteger(o.ops) && o.ops >= 0))
    throw new RangeError(`randAugment.ops must be an integer >= 0, got ${o.ops}`);
  if (!(o.magnitude >= 0 && o.magnitude <= MAX_LEVEL)) {
    throw new RangeError(`randAugment.magnitude must be in 0..${MAX_LEVEL}, got ${o.magnitude}`);
  }
  const p = o.probability ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`randAugment.probability must be in 0..1, got ${p}`);
  if (!((o.magnitudeStd ?? 0) >= 0))
    throw new RangeError(`randAugment.magnitudeStd must be >= 0, got ${o.magnitudeStd}`);
  for (const op of o.choices ?? []) {
    if (!RAND_AUGMENT_OPS.includes(op)) {
      throw new RangeError(`unknown randAugment operation '${op}' (known: ${RAND_AUGMENT_OPS.join(', ')})`);
    }
  }
  if (o.choices && o.choices.length === 0) throw new RangeError('randAugment.choices must not be empty');
}

/**
 * Applies one RandAugment draw to `img` in place; `scratch` has the same size and is used by the
 * geometric operations. `fill` is the pixel value exposed by rotations, shears and translations.
 */
export function randAugment(
  img: Uint8Array,
  scratch: Uint8Array,
  shape: px.ImageShape,
  options: RandAugmentOptions,
  fill: number,
  rng: Rng,
): void {
  const choices = options.choices ?? DEFAULT_RAND_AUGMENT_OPS;
  const probability = options.probability ?? 0.5;
  const std = options.magnitudeStd ?? 0;
  for (let n = 0; n < options.ops; n++) {
    const op = choices[rng.int(choices.length)];
    // Draw every random number before deciding to skip, so the stream does not depend on the outcome.
    const apply = rng.next() < probability;
    const noise = std > 0 ? rng.normal() * std : 0;
    const sign = rng.next() < 0.5 ? -1 : 1;
    if (!apply) continue;
    const level = Math.min(MAX_LEVEL, Math.max(0, options.magnitude + noise)) / MAX_LEVEL;
    applyOp(op, level, sign, img, scratch, shape, fill);
  }
}

function applyOp(
  op: RandAugmentOp,
  level: number,
  sign: number,
  img: Uint8Array,
  scratch: Uint8Array,
  shape: px.ImageShape,
  fill: number,
): void {
  const warp = (m: [number, number, number, number, number, number]): void => {
    px.affine(img, scratch, shape, m, fill);
    img.set(scratch);
  };
  const enhance = 1 + sign * level * 0.9; // timm's _enhance_increasing_level: 0.1..1.9
  switch (op) {
    case 'identity':
      return;
    case 'autoContrast':
      px.autoContrast(img, img, shape);
      return;
    case 'equalize':
      px.equalize(img, img, shape);
      return;
    case 'invert':
      px.invert(img, img);
      return;
    case 'rotate':
      warp(px.rotationMatrix(sign * level * 30));
      return;
    case 'solarize':
      px.solarize(img, img, Math.round(256 - level * 256));
      return;
    case 'posterize':
      // 8 bits at magnitude 0 down to 4 at 10 (the original paper's range; timm's goes to 0 bits,
      // which blanks a 28x28 grey image entirely).
      px.posterize(img, img, 8 - Math.round(level * 4));
      return;
    case 'color':
      px.color(img, img, shape, enhance);
      return;
    case 'contrast':
      px.contrast(img, img, shape, enhance);
      return;
    case 'brightness':
      px.brightness(img, img, enhance);
      return;
    case 'sharpness':
      px.sharpness(img, img, shape, enhance);
      return;
    case 'shearX':
      warp([1, sign * level * 0.3, 0, 0, 1, 0]);
      return;
    case 'shearY':
      warp([1, 0, 0, sign * level * 0.3, 1, 0]);
      return;
    case 'translateX':
      warp([1, 0, sign * level * 0.45 * shape.width, 0, 1, 0]);
      return;
    case 'translateY':
      warp([1, 0, 0, 0, 1, sign * level * 0.45 * shape.height]);
      return;
  }
}
