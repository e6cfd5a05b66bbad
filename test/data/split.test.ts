import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classCounts, createDataset } from '../../src/data/dataset.ts';
import { SplitMismatchError } from '../../src/data/errors.ts';
import { allocateStratified, makeSplits } from '../../src/data/split.ts';
import { describeSplit, restoreSplits, verifySplit } from '../../src/data/split-describe.ts';
import { syntheticDataset } from './helpers.ts';

const perClass = [300, 200, 100, 250];
const pool = syntheticDataset(perClass);
const testPool = syntheticDataset([40, 40, 40, 40], 6, 5, 1, 2);
const options = { seed: 7, train: 600, val: 200, valSubset: 50 };

test('allocateStratified is proportional with largest remainders', () => {
  assert.deepEqual(allocateStratified(10, [5, 3, 2]), [5, 3, 2]);
  assert.deepEqual(allocateStratified(5, [5, 3, 2]), [3, 1, 1]);
  assert.deepEqual(allocateStratified(4, [1, 1, 1, 1, 1]), [1, 1, 1, 1, 0]);
  assert.equal(
    allocateStratified(2048, new Array(10).fill(1000)).reduce((a, b) => a + b),
    2048,
  );
  assert.throws(() => allocateStratified(11, [5, 5]), /cannot take 11/);
});

test('splits are deterministic in the seed', () => {
  const a = makeSplits({ train: pool, test: testPool }, options);
  const b = makeSplits({ train: pool, test: testPool }, options);
  const c = makeSplits({ train: pool, test: testPool }, { ...options, seed: 8 });
  for (const name of ['train', 'val', 'valSubset', 'test'] as const) {
    assert.deepEqual(a[name].indices, b[name].indices, name);
  }
  assert.notDeepEqual(a.val.indices, c.val.indices);
  assert.notDeepEqual(a.valSubset.indices, c.valSubset.indices);
});

test('train, val and test are disjoint; valSubset lies inside val', () => {
  for (const pools of [{ train: pool, test: testPool }, { train: pool }]) {
    const splits = makeSplits(pools, { ...options, test: 100, train: undefined });
    const seen = new Set<number>();
    const fromPool = [splits.train, splits.val, ...(pools.test ? [] : [splits.test])];
    for (const subset of fromPool) {
      for (const i of subset.indices) {
        assert.ok(!seen.has(i), `index ${i} is in two sets`);
        seen.add(i);
      }
    }
    const val = new Set(splits.val.indices);
    for (const i of splits.valSubset.indices) assert.ok(val.has(i));
    for (const s of [splits.train, splits.val, splits.valSubset, splits.test]) {
      assert.deepEqual(
        Array.from(s.indices),
        Array.from(s.indices).sort((x, y) => x - y),
        `${s.name} is sorted`,
      );
    }
    assert.equal(splits.testFrom, pools.test ? 'test-pool' : 'train-pool');
    // Without a test pool the rest of the pool is train.
    if (!pools.test) assert.equal(splits.train.indices.length, 850 - 200 - 100);
  }
});

test('every set is stratified: each class within one image of its share', () => {
  const splits = makeSplits({ train: pool, test: testPool }, { ...options, test: 60 });
  const total = pool.count;
  for (const subset of [splits.train, splits.val, splits.valSubset]) {
    const counts = classCounts(pool, subset.indices);
    counts.forEach((n, c) => {
      const share = (subset.indices.length * perClass[c]) / total;
      assert.ok(Math.abs(n - share) <= 1, `${subset.name} class ${c}: ${n} vs ${share}`);
    });
  }
  assert.deepEqual(classCounts(testPool, splits.test.indices), [15, 15, 15, 15]);
});

test('a smaller valSubset is contained in a larger one with the same seed', () => {
  const small = makeSplits({ train: pool }, { ...options, test: 50, valSubset: 20 });
  const large = makeSplits({ train: pool }, { ...options, test: 50, valSubset: 120 });
  const inLarge = new Set(large.valSubset.indices);
  for (const i of small.valSubset.indices) assert.ok(inLarge.has(i));
  assert.deepEqual(small.val.indices, large.val.indices);
});

test('impossible counts are rejected with the numbers', () => {
  assert.throws(() => makeSplits({ train: pool }, { ...options }), /no test files: give the split a test count/);
  assert.throws(
    () => makeSplits({ train: pool, test: testPool }, { ...options, valSubset: 201 }),
    /valSubset \(201\) cannot exceed val \(200\)/,
  );
  assert.throws(
    () => makeSplits({ train: pool, test: testPool }, { ...options, train: 700 }),
    /train \(700\) exceeds the 650 images/,
  );
  assert.throws(() => makeSplits({ train: pool, test: testPool }, { ...options, test: 161 }), /test \(161\) exceeds/);
  assert.throws(() => makeSplits({ train: pool, test: testPool }, { ...options, val: -1 }), /non-negative integer/);
});

test('describeSplit is JSON that verifySplit and restoreSplits accept', () => {
  const splits = makeSplits({ train: pool, test: testPool }, options);
  const description = JSON.parse(JSON.stringify(describeSplit(splits)));
  assert.equal(description.seed, 7);
  assert.equal(description.subsets.valSubset.count, 50);
  assert.match(description.subsets.train.sha256, /^[0-9a-f]{64}$/);
  assert.match(description.pools.train.sha256, /^[0-9a-f]{64}$/);
  verifySplit(description, makeSplits({ train: pool, test: testPool }, options));
  const restored = restoreSplits({ train: pool, test: testPool }, description);
  assert.deepEqual(restored.valSubset.indices, splits.valSubset.indices);
});

test('verifySplit names what changed: seed, counts or the data itself', () => {
  const description = describeSplit(makeSplits({ train: pool, test: testPool }, options));
  assert.throws(
    () => verifySplit(description, makeSplits({ train: pool, test: testPool }, { ...options, seed: 9 })),
    (err: unknown) => err instanceof SplitMismatchError && /seed: recorded 7, now 9/.test(err.message),
  );
  // Same shape and labels, one pixel different: the dataset fingerprint catches it.
  const images = pool.images.slice();
  images[0] ^= 1;
  const edited = createDataset({ ...pool, images });
  assert.throws(() => restoreSplits({ train: edited, test: testPool }, description), /pools\.train\.sha256: recorded/);
});
