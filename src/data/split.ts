// The three disjoint sets a search needs, plus the board's validation subset:
//  - train:     batches for the supernet weights;
//  - val:       held out from the training files; scores paths for the prioritized board and the
//               meta network, so the search never tunes on the test set;
//  - valSubset: a fixed part of val (the paper uses 2,048 images) cheap enough to score often;
//  - test:      the published test files (or, without them, a part held out from the pool), which
//               the search never sees.
// Every set is stratified (each class keeps its share, so a small valSubset is not skewed) and is a
// pure function of the data, the counts and the seed.

import { classCounts, type ImageDataset } from './dataset.ts';
import { deriveSeed, Rng } from './rng.ts';

export type SubsetName = 'train' | 'val' | 'valSubset' | 'test';

/** Part of a dataset: indices into it, sorted ascending (the loader shuffles per epoch). */
export interface Subset {
  name: SubsetName;
  dataset: ImageDataset;
  indices: Int32Array;
}

export interface SplitOptions {
  seed: number;
  /** Training images (default: all of the training pool not held out for val or test). */
  train?: number;
  /** Validation images, held out from the training pool. */
  val: number;
  /** Images of the board's validation subset, chosen from val. */
  valSubset: number;
  /** Test images: from the test pool (default all of it), or held out from the training pool when there is none. */
  test?: number;
}

export interface DataPools {
  /** The dataset's training files: train and val (and test when there is no test pool) come from here. */
  train: ImageDataset;
  /** The dataset's test files, if it has any. */
  test?: ImageDataset;
}

export interface DataSplits {
  seed: number;
  /** Whether test came from the test pool or was held out from the training pool. */
  testFrom: 'test-pool' | 'train-pool';
  train: Subset;
  val: Subset;
  valSubset: Subset;
  test: Subset;
}

// Fixed stream numbers, so each kind of choice draws from its own seeded stream.
const STREAM_TRAIN_POOL = 1;
const STREAM_TEST_POOL = 2;

/**
 * Splits `total` images over classes in proportion to `available` (largest remainder method, ties
 * to the lower class), never taking more than a class has.
 */
export function allocateStratified(total: number, available: number[]): number[] {
  const sum = available.reduce((a, b) => a + b, 0);
  if (total > sum) throw new RangeError(`cannot take ${total} images from ${sum}`);
  if (sum === 0) return available.map(() => 0);
  const quotas = available.map((n) => (total * n) / sum);
  const counts = quotas.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = quotas.map((_, c) => c).sort((a, b) => quotas[b] - counts[b] - (quotas[a] - counts[a]) || a - b);
  for (const c of order) {
    if (left === 0) break;
    if (counts[c] < available[c]) {
      counts[c]++;
      left--;
    }
  }
  return counts;
}

/** Indices of each class of `dataset`, each list shuffled by its own stream of `seed`. */
function shuffledByClass(dataset: ImageDataset, seed: number, stream: number): number[][] {
  const byClass: number[][] = Array.from({ length: dataset.numClasses }, () => []);
  for (let i = 0; i < dataset.count; i++) byClass[dataset.labels[i]].push(i);
  return byClass.map((list, c) => new Rng(deriveSeed(seed, stream, c)).shuffle(list));
}

/** Takes per-class counts off the front of each class list, removing them; returns the sorted union. */
function takeFront(byClass: number[][], counts: number[]): Int32Array {
  const taken: number[] = [];
  byClass.forEach((list, c) => {
    for (const i of list.splice(0, counts[c])) taken.push(i);
  });
  return Int32Array.from(taken).sort();
}

function checkCount(value: number | undefined, what: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
    throw new RangeError(`split ${what} must be a non-negative integer, got ${value}`);
  }
}

/** Builds the train / val / valSubset / test split; deterministic in (data, options). */
export function makeSplits(pools: DataPools, options: SplitOptions): DataSplits {
  const { seed, val, valSubset } = options;
  for (const key of ['train', 'val', 'valSubset', 'test'] as const) checkCount(options[key], key);
  const pool = pools.train;
  if (pools.test && (pools.test.numClasses !== pool.numClasses || pools.test.channels !== pool.channels)) {
    throw new RangeError(
      `test pool ${pools.test.name} (${pools.test.numClasses} classes, ${pools.test.channels} channels) does not match ` +
        `training pool ${pool.name} (${pool.numClasses} classes, ${pool.channels} channels)`,
    );
  }
  if (valSubset > val) throw new RangeError(`split valSubset (${valSubset}) cannot exceed val (${val})`);
  const byClass = shuffledByClass(pool, seed, STREAM_TRAIN_POOL);
  const remaining = (): number[] => byClass.map((l) => l.length);

  let test: Subset;
  if (pools.test) {
    const testPool = pools.test;
    const count = options.test ?? testPool.count;
    if (count > testPool.count)
      throw new RangeError(`split test (${count}) exceeds the ${testPool.count} images of ${testPool.name}`);
    const testByClass = shuffledByClass(testPool, seed, STREAM_TEST_POOL);
    const counts = allocateStratified(count, classCounts(testPool));
    test = { name: 'test', dataset: testPool, indices: takeFront(testByClass, counts) };
  } else {
    if (options.test === undefined) throw new RangeError(`${pool.name} has no test files: give the split a test count`);
    if (options.test + val > pool.count) {
      throw new RangeError(
        `split test (${options.test}) + val (${val}) exceed the ${pool.count} images of ${pool.name}`,
      );
    }
    test = { name: 'test', dataset: pool, indices: takeFront(byClass, allocateStratified(options.test, remaining())) };
  }

  if (val > pool.count - (pools.test ? 0 : test.indices.length)) {
    throw new RangeError(`split val (${val}) exceeds the images left in ${pool.name}`);
  }
  // valSubset is the front of val's shuffled class lists: a smaller subset is always inside a larger one.
  const valCounts = allocateStratified(val, remaining());
  const subsetCounts = allocateStratified(valSubset, valCounts);
  const valSubsetIndices = takeFront(
    byClass.map((list, c) => list.slice(0, valCounts[c])),
    subsetCounts,
  );
  const valIndices = takeFront(byClass, valCounts);

  const left = remaining().reduce((a, b) => a + b, 0);
  const trainCount = options.train ?? left;
  if (trainCount > left) {
    throw new RangeError(
      `split train (${trainCount}) exceeds the ${left} images of ${pool.name} left after val and test`,
    );
  }
  const trainIndices = takeFront(byClass, allocateStratified(trainCount, remaining()));

  return {
    seed,
    testFrom: pools.test ? 'test-pool' : 'train-pool',
    train: { name: 'train', dataset: pool, indices: trainIndices },
    val: { name: 'val', dataset: pool, indices: valIndices },
    valSubset: { name: 'valSubset', dataset: pool, indices: valSubsetIndices },
    test,
  };
}
