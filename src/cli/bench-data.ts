// `cream bench data`: images per second the training loader delivers on Fashion-MNIST, with the
// training augmentation, to check that data preparation stays far ahead of the supernet (which
// trains at a few thousand images/s at most on a CPU).

import {
  type AugmentOptions,
  BatchLoader,
  FASHION_MNIST_PRESET,
  loadPools,
  makeSplits,
  searchAugment,
} from '../data/index.ts';

export interface BenchDataOptions {
  json: boolean;
  batch: number;
  seconds: number;
  workers: number;
  /** 'search' (crop + flip, default) or 'retrain' (plus RandAugment n=2 m=9 and random erasing 0.25). */
  augment?: 'search' | 'retrain';
  /** Fashion-MNIST folder instead of the packaged one. */
  dataDir?: string;
}

export interface BenchDataResult {
  bench: 'data';
  imagesPerSecond: number;
  batch: number;
  workers: number;
  augment: 'search' | 'retrain';
}

/** Measures the loader and returns the result (benchData prints it). */
export async function measureData(opts: BenchDataOptions): Promise<BenchDataResult> {
  const kind = opts.augment ?? 'search';
  const pools = loadPools({ kind: 'fashion-mnist', dir: opts.dataDir });
  const splits = makeSplits(pools, { seed: 0, ...FASHION_MNIST_PRESET.split, ...smallSplit(pools.train.count) });
  const augment: AugmentOptions = searchAugment(FASHION_MNIST_PRESET);
  if (kind === 'retrain') {
    augment.randAugment = { ops: 2, magnitude: 9, magnitudeStd: 0.5 };
    augment.erasing = { probability: 0.25 };
  }
  const batchSize = Math.min(opts.batch, splits.train.indices.length);
  const loader = new BatchLoader({ subset: splits.train, batchSize, seed: 0, augment, workers: opts.workers });
  try {
    // Warm up: start the workers and fill the prefetch queue before timing.
    const warmUntil = performance.now() + Math.min(1000, opts.seconds * 250);
    while (performance.now() < warmUntil) await loader.next();
    let images = 0;
    const start = performance.now();
    const end = start + opts.seconds * 1000;
    while (performance.now() < end) images += (await loader.next()).size;
    const elapsed = (performance.now() - start) / 1000;
    return {
      bench: 'data',
      imagesPerSecond: Math.round(images / elapsed),
      batch: batchSize,
      workers: opts.workers,
      augment: kind,
    };
  } finally {
    await loader.close();
  }
}

/** The default split needs 70,000 images; a small stand-in folder (tests) gets proportional counts. */
function smallSplit(count: number): { train?: number; val?: number; valSubset?: number; test?: number } {
  if (count >= 60000) return {};
  const val = Math.floor(count / 6);
  return { train: count - val, val, valSubset: Math.min(val, 8), test: undefined };
}

export async function benchData(opts: BenchDataOptions): Promise<void> {
  const result = await measureData(opts);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(
      `data loader: ${result.imagesPerSecond.toLocaleString('en-US')} images/s ` +
        `(batch ${result.batch}, ${result.workers} workers, ${result.augment} augmentation, Fashion-MNIST 28x28)\n`,
    );
  }
}
