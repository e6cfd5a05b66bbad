// Batches and the pure functions that define them. A training batch is fully determined by
// (seed, epoch, batchIndex): the epoch's order comes from (seed, epoch), the augmentation of its
// images from (seed, epoch, batchIndex). Whoever computes it (main thread or any worker, at any
// time) gets the same bytes, which is what makes runs reproducible and resumable mid-epoch.

import { Augmenter, type AugmentOptions, normalizationTable, normalizeInto } from './augment.ts';
import type { ImageShape } from './pixel-ops.ts';
import { deriveSeed, Rng } from './rng.ts';

/** Images NHWC float32 [size, height, width, channels], labels int32 [size]. */
export interface Batch {
  images: Float32Array;
  labels: Int32Array;
  size: number;
  height: number;
  width: number;
  channels: number;
}

/** What a batch producer needs of a dataset: its bytes and labels, no metadata. */
export interface PixelSource extends ImageShape {
  images: Uint8Array;
  labels: Int32Array;
}

// Stream numbers keep the epoch order and the augmentation draws independent of each other.
const STREAM_ORDER = 11;
const STREAM_AUGMENT = 12;

/** The order in which epoch `epoch` visits positions 0..count-1 of a subset. */
export function epochOrder(seed: number, epoch: number, count: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return new Rng(deriveSeed(seed, STREAM_ORDER, epoch)).shuffle(order);
}

/** The seed of the augmentation draws of one batch. */
export function batchSeed(seed: number, epoch: number, batchIndex: number): number {
  return deriveSeed(seed, STREAM_AUGMENT, epoch, batchIndex);
}

/** Number of batches in an epoch of `count` images. */
export function batchesPerEpoch(count: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/**
 * Builds one batch from dataset indices. With `augment` every image goes through the training
 * pipeline drawing from one Rng seeded by `seed`; without it images are only normalised.
 */
export class BatchMaker {
  private readonly source: PixelSource;
  private readonly augmenter: Augmenter | null;
  private readonly lut: Float32Array;

  constructor(source: PixelSource, normalizeOrAugment: AugmentOptions) {
    this.source = source;
    const { height, width, channels } = source;
    const augments =
      (normalizeOrAugment.cropPadding ?? 0) > 0 ||
      normalizeOrAugment.flip ||
      normalizeOrAugment.randAugment ||
      normalizeOrAugment.erasing;
    this.augmenter = augments ? new Augmenter(normalizeOrAugment, { height, width, channels }) : null;
    this.lut = normalizationTable(normalizeOrAugment.normalize, channels);
  }

  make(indices: Int32Array, seed: number): Batch {
    const { height, width, channels, images, labels } = this.source;
    const size = indices.length;
    const imageSize = height * width * channels;
    const out: Batch = {
      images: new Float32Array(size * imageSize),
      labels: new Int32Array(size),
      size,
      height,
      width,
      channels,
    };
    const rng = this.augmenter ? new Rng(seed) : null;
    for (let i = 0; i < size; i++) {
      const idx = indices[i];
      out.labels[i] = labels[idx];
      if (this.augmenter && rng) this.augmenter.apply(images, idx * imageSize, out.images, i * imageSize, rng);
      else normalizeInto(images, idx * imageSize, out.images, i * imageSize, this.lut, channels, height * width);
    }
    return out;
  }
}
