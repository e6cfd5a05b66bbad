// The per-image training pipeline, in torchvision/timm order:
//   RandAugment (bytes) -> random crop with padding + horizontal flip -> per-channel normalisation
//   (float) -> random erasing (float, in normalised units as timm does).
// Crop, flip and normalisation are fused into one pass through a lookup table: this is the common
// path (search training on 28x28 images) and must cost about a microsecond per image.
// All randomness comes from the Rng passed in, consumed in a fixed order.

import type { ImageShape } from './pixel-ops.ts';
import { checkRandAugmentOptions, type RandAugmentOptions, randAugment } from './rand-augment.ts';
import type { Rng } from './rng.ts';

export interface NormalizeOptions {
  /** Per-channel mean of pixel/255 (one value, or one per channel). */
  mean: number[];
  /** Per-channel standard deviation of pixel/255. */
  std: number[];
}

export interface ErasingOptions {
  /** Probability of erasing a rectangle in an image. */
  probability: number;
  /** 'pixel': per-pixel standard-normal noise (timm's remode=pixel); 'zero': the dataset mean. Default 'pixel'. */
  mode?: 'pixel' | 'zero';
  /** Erased area as a fraction of the image, drawn uniformly from [minArea, maxArea] (default 0.02, 1/3). */
  minArea?: number;
  maxArea?: number;
  /** Aspect ratio drawn log-uniformly from [minAspect, 1/minAspect] (default 0.3). */
  minAspect?: number;
}

export interface AugmentOptions {
  normalize: NormalizeOptions;
  /** Random crop of the original size from the image padded by this many pixels on each side (0: none). */
  cropPadding?: number;
  /** Horizontal flip with probability 1/2 (off for digits, whose mirror images are not digits). */
  flip?: boolean;
  /** RandAugment policy, usually for retraining only. */
  randAugment?: RandAugmentOptions | null;
  /** Random erasing (cutout-like), applied after normalisation. */
  erasing?: ErasingOptions | null;
  /** Pixel value (0..255) used for crop padding and exposed areas of geometric ops (default 0: black). */
  fill?: number;
}

/** Normalisation as a table: value v of channel c becomes lut[c * 256 + v]. */
export function normalizationTable(normalize: NormalizeOptions, channels: number): Float32Array {
  const pick = (values: number[], what: string, c: number): number => {
    if (values.length !== 1 && values.length !== channels) {
      throw new RangeError(`normalize.${what} has ${values.length} values for ${channels} channels`);
    }
    return values.length === 1 ? values[0] : values[c];
  };
  const lut = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    const mean = pick(normalize.mean, 'mean', c);
    const std = pick(normalize.std, 'std', c);
    if (!(std > 0)) throw new RangeError(`normalize.std must be positive, got ${std}`);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - mean) / std;
  }
  return lut;
}

/** Writes one image as normalised floats, nothing else (evaluation). */
export function normalizeInto(
  src: Uint8Array,
  srcOffset: number,
  out: Float32Array,
  outOffset: number,
  lut: Float32Array,
  channels: number,
  pixels: number,
): void {
  if (channels === 1) {
    for (let i = 0; i < pixels; i++) out[outOffset + i] = lut[src[srcOffset + i]];
    return;
  }
  const n = pixels * channels;
  for (let i = 0; i < n; i++) out[outOffset + i] = lut[(i % channels) * 256 + src[srcOffset + i]];
}

/** Applies the training pipeline to one image at a time, reusing its scratch buffers. */
export class Augmenter {
  readonly shape: ImageShape;
  private readonly options: AugmentOptions;
  private readonly lut: Float32Array;
  private readonly pad: number;
  private readonly fill: number;
  private readonly work: Uint8Array;
  private readonly scratch: Uint8Array;

  constructor(options: AugmentOptions, shape: ImageShape) {
    this.options = options;
    this.shape = { ...shape };
    this.lut = normalizationTable(options.normalize, shape.channels);
    this.pad = options.cropPadding ?? 0;
    this.fill = options.fill ?? 0;
    if (!(Number.isInteger(this.pad) && this.pad >= 0))
      throw new RangeError(`cropPadding must be an integer >= 0, got ${this.pad}`);
    if (!(Number.isInteger(this.fill) && this.fill >= 0 && this.fill <= 255))
      throw new RangeError(`fill must be 0..255, got ${this.fill}`);
    if (options.randAugment) checkRandAugmentOptions(options.randAugment);
    const e = options.erasing;
    if (e) {
      if (!(e.probability >= 0 && e.probability <= 1))
        throw new RangeError(`erasing.probability must be in 0..1, got ${e.probability}`);
      const lo = e.minArea ?? 0.02;
      const hi = e.maxArea ?? 1 / 3;
      if (!(lo > 0 && lo <= hi && hi <= 1))
        throw new RangeError(`erasing area range must satisfy 0 < minArea <= maxArea <= 1, got ${lo}..${hi}`);
      if (!((e.minAspect ?? 0.3) > 0)) throw new RangeError(`erasing.minAspect must be positive, got ${e.minAspect}`);
    }
    const bytes = shape.height * shape.width * shape.channels;
    this.work = new Uint8Array(bytes);
    this.scratch = new Uint8Array(bytes);
  }

  /** Augments image `src[srcOffset..]` (bytes) into `out[outOffset..]` (normalised floats). */
  apply(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, rng: Rng): void {
    const { height: h, width: w, channels: ch } = this.shape;
    const bytes = h * w * ch;
    let img = src;
    let base = srcOffset;
    if (this.options.randAugment) {
      this.work.set(src.subarray(srcOffset, srcOffset + bytes));
      randAugment(this.work, this.scratch, this.shape, this.options.randAugment, this.fill, rng);
      img = this.work;
      base = 0;
    }
    const pad = this.pad;
    const oy = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
    const ox = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
    const flip = this.options.flip ? rng.next() < 0.5 : false;
    this.cropFlipNormalize(img, base, out, outOffset, oy, ox, flip);
    if (this.options.erasing) this.erase(out, outOffset, this.options.erasing, rng);
  }

  /**
   * out[y][x] = lut[img[y + oy][x' + ox]] with x' = x, or w - 1 - x when flipped; pixels whose
   * source falls outside the image get the fill value. Per row, the in-bounds span is computed once
   * so the inner loop has no bounds tests.
   */
  private cropFlipNormalize(
    img: Uint8Array,
    base: number,
    out: Float32Array,
    outOffset: number,
    oy: number,
    ox: number,
    flip: boolean,
  ): void {
    const { height: h, width: w, channels: ch } = this.shape;
    const lut = this.lut;
    const row = w * ch;
    // Output columns whose source column (x + ox, or w - 1 - x + ox) lies in 0..w-1.
    const x0 = flip ? Math.max(0, ox) : Math.max(0, -ox);
    const x1 = flip ? Math.min(w, w + ox) : Math.min(w, w - ox);
    for (let y = 0; y < h; y++) {
      const sy = y + oy;
      const o = outOffset + y * row;
      if (sy < 0 || sy >= h) {
        this.fillSpan(out, o, 0, w);
        continue;
      }
      this.fillSpan(out, o, 0, x0);
      this.fillSpan(out, o, x1, w);
      const rowIn = base + sy * row;
      if (ch === 1) {
        if (flip) for (let x = x0, s = rowIn + w - 1 - x0 + ox; x < x1; x++, s--) out[o + x] = lut[img[s]];
        else for (let x = x0, s = rowIn + x0 + ox; x < x1; x++, s++) out[o + x] = lut[img[s]];
        continue;
      }
      for (let x = x0; x < x1; x++) {
        const s = rowIn + ((flip ? w - 1 - x : x) + ox) * ch;
        for (let c = 0; c < ch; c++) out[o + x * ch + c] = lut[c * 256 + img[s + c]];
      }
    }
  }

  /** Writes the normalised fill value into output columns [from, to) of the row at `o`. */
  private fillSpan(out: Float32Array, o: number, from: number, to: number): void {
    const ch = this.shape.channels;
    for (let x = from; x < to; x++) for (let c = 0; c < ch; c++) out[o + x * ch + c] = this.lut[c * 256 + this.fill];
  }

  /** timm's RandomErasing (one rectangle, up to 10 attempts to fit it). */
  private erase(out: Float32Array, outOffset: number, e: ErasingOptions, rng: Rng): void {
    if (!(rng.next() < e.probability)) return;
    const { height: h, width: w, channels: ch } = this.shape;
    const minArea = e.minArea ?? 0.02;
    const maxArea = e.maxArea ?? 1 / 3;
    const logAspect = Math.log(e.minAspect ?? 0.3);
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = rng.uniform(minArea, maxArea) * h * w;
      const aspect = Math.exp(rng.uniform(logAspect, -logAspect));
      const eh = Math.round(Math.sqrt(area * aspect));
      const ew = Math.round(Math.sqrt(area / aspect));
      if (eh < 1 || ew < 1 || eh >= h || ew >= w) continue;
      const top = rng.int(h - eh + 1);
      const left = rng.int(w - ew + 1);
      const pixelNoise = (e.mode ?? 'pixel') === 'pixel';
      for (let y = top; y < top + eh; y++) {
        for (let i = outOffset + (y * w + left) * ch, end = i + ew * ch; i < end; i++) {
          out[i] = pixelNoise ? rng.normal() : 0;
        }
      }
      return;
    }
  }
}
