// Evaluation batches: a subset in its fixed (sorted) order, normalised, never augmented, the last
// batch possibly smaller. Normalisation is a table lookup per pixel, so this runs on the calling
// thread; a worker round trip would cost more than it saves.

import type { NormalizeOptions } from './augment.ts';
import { type Batch, BatchMaker } from './batch.ts';
import type { Subset } from './split.ts';

export interface EvalBatchOptions {
  batchSize: number;
  normalize: NormalizeOptions;
}

/** Yields the batches of `subset` (any split, or the validation subset) in order. */
export function* evalBatches(subset: Pick<Subset, 'dataset' | 'indices'>, options: EvalBatchOptions): Generator<Batch> {
  const { batchSize } = options;
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
  const maker = new BatchMaker(subset.dataset, { normalize: options.normalize });
  for (let start = 0; start < subset.indices.length; start += batchSize) {
    yield maker.make(subset.indices.slice(start, start + batchSize), 0);
  }
}

/** Number of batches {@link evalBatches} yields. */
export function evalBatchCount(subset: Pick<Subset, 'indices'>, batchSize: number): number {
  return Math.ceil(subset.indices.length / batchSize);
}
