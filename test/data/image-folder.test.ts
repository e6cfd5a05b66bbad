import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PNG } from 'pngjs';
import { classCounts } from '../../src/data/dataset.ts';
import { DatasetError } from '../../src/data/errors.ts';
import { loadImageFolder } from '../../src/data/image-folder.ts';
import { loadPools } from '../../src/data/presets.ts';
import { FIXTURES } from './helpers.ts';

const FOLDERS = join(FIXTURES, 'folders');
const GOOD = join(FOLDERS, 'good');

function assertDatasetError(fn: () => unknown, path: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DatasetError, `expected DatasetError, got ${err}`);
    assert.equal(err.path, path);
    assert.ok(err.message.includes(path), `message names the file: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('class folders: sorted class names, nested folders, PNG and JPEG, upper-case extensions', () => {
  const ds = loadImageFolder({ root: GOOD, height: 12, width: 10, channels: 1 });
  assert.deepEqual(ds.classNames, ['circle', 'square', 'triangle']);
  assert.equal(ds.count, 7);
  assert.deepEqual(classCounts(ds), [3, 2, 2]);
  assert.equal(ds.images.length, 7 * 12 * 10);
  assert.ok(ds.images.buffer instanceof SharedArrayBuffer);
  assert.deepEqual(ds.skipped, []);
  // A grey PNG already at the target size is copied exactly.
  const png = PNG.sync.read(readFileSync(join(GOOD, 'circle', 'a.png')));
  for (let i = 0; i < 120; i++) assert.equal(ds.images[i], png.data[i * 4]);
});

test('grey and RGB files both load as RGB or grey, as configured', () => {
  const rgb = loadImageFolder({ root: GOOD, height: 8, width: 8, channels: 3 });
  assert.equal(rgb.channels, 3);
  assert.equal(rgb.images.length, 7 * 8 * 8 * 3);
  const grey = loadImageFolder({ root: GOOD, height: 8, width: 8, channels: 1 });
  // circle/b.png is RGB with G = R + 60, B = R + 120 (mod 256): its grey version is luma, not R.
  const png = PNG.sync.read(readFileSync(join(GOOD, 'circle', 'b.png')));
  assert.equal(png.width, 10);
  const imageB = rgb.images.subarray(8 * 8 * 3, 2 * 8 * 8 * 3);
  assert.ok(
    imageB.some((v, i) => i % 3 === 1 && v !== imageB[i - 1]),
    'RGB channels differ',
  );
  const greyB = grey.images.subarray(64, 128);
  for (let p = 0; p < 64; p++) {
    const [r, g, b] = [imageB[p * 3], imageB[p * 3 + 1], imageB[p * 3 + 2]];
    // Resize then luma vs luma then resize: equal up to rounding.
    assert.ok(Math.abs(greyB[p] - (0.299 * r + 0.587 * g + 0.114 * b)) <= 2);
  }
});

test('a list file of "path label" lines', () => {
  const ds = loadImageFolder({ listFile: join(FOLDERS, 'list.txt'), height: 6, width: 6, channels: 1 });
  assert.equal(ds.count, 4);
  assert.deepEqual(Array.from(ds.labels), [0, 1, 2, 0]);
  assert.deepEqual(ds.classNames, ['0', '1', '2']);
  const named = loadImageFolder({
    listFile: join(FOLDERS, 'list.txt'),
    root: FOLDERS,
    height: 6,
    width: 6,
    channels: 1,
    classNames: ['circle', 'square', 'triangle', 'other'],
  });
  assert.equal(named.numClasses, 4);
});

test('a malformed list file line is an error naming the file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cream-list-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const list = join(dir, 'bad.txt');
  writeFileSync(list, `${join(GOOD, 'circle', 'a.png')} 0\n${join(GOOD, 'square', 'a.png')} one\n`);
  assertDatasetError(
    () => loadImageFolder({ listFile: list, height: 4, width: 4, channels: 1 }),
    list,
    /bad\.txt:2: label "one"/,
  );
});

test('a corrupt PNG is an error naming the file; skipBad skips and counts it', () => {
  const root = join(FOLDERS, 'corrupt-png');
  const bad = join(root, 'a', 'bad.png');
  assertDatasetError(() => loadImageFolder({ root, height: 4, width: 4, channels: 1 }), bad, /cannot decode image/);
  const seen: string[] = [];
  const ds = loadImageFolder({ root, height: 4, width: 4, channels: 1, skipBad: true, onSkip: (p) => seen.push(p) });
  assert.equal(ds.count, 2);
  assert.deepEqual(seen, [bad]);
  assert.equal(ds.skipped.length, 1);
  assert.equal(ds.skipped[0].path, bad);
});

test('a truncated JPEG is an error naming the file', () => {
  const root = join(FOLDERS, 'corrupt-jpeg');
  assertDatasetError(
    () => loadImageFolder({ root, height: 4, width: 4, channels: 1 }),
    join(root, 'a', 'bad.jpg'),
    /cannot decode image/,
  );
});

test('an unknown extension is an error naming the file', () => {
  const root = join(FOLDERS, 'unknown-ext');
  const notes = join(root, 'a', 'notes.txt');
  assertDatasetError(
    () => loadImageFolder({ root, height: 4, width: 4, channels: 1 }),
    notes,
    /unknown extension \.txt/,
  );
  const ds = loadImageFolder({ root, height: 4, width: 4, channels: 1, skipBad: true, onSkip: () => {} });
  assert.equal(ds.count, 2);
  assert.equal(ds.skipped.length, 1);
});

test('an empty class folder is an error naming the folder, even with skipBad', () => {
  const root = mkdtempSync(join(tmpdir(), 'cream-empty-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'a'));
  mkdirSync(join(root, 'b'));
  writeFileSync(join(root, 'a', 'x.png'), readFileSync(join(GOOD, 'circle', 'a.png')));
  for (const skipBad of [false, true]) {
    assertDatasetError(
      () => loadImageFolder({ root, height: 4, width: 4, channels: 1, skipBad }),
      join(root, 'b'),
      /holds no/,
    );
  }
  // A class whose only file is unreadable is empty too.
  writeFileSync(join(root, 'b', 'y.png'), 'garbage');
  assertDatasetError(
    () => loadImageFolder({ root, height: 4, width: 4, channels: 1, skipBad: true, onSkip: () => {} }),
    join(root, 'b'),
    /no readable images \(1 files skipped\)/,
  );
});

test('a file at the root of an image folder is an error', () => {
  const root = mkdtempSync(join(tmpdir(), 'cream-root-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'a'));
  writeFileSync(join(root, 'a', 'x.png'), readFileSync(join(GOOD, 'circle', 'a.png')));
  writeFileSync(join(root, 'README'), 'hello');
  assertDatasetError(
    () => loadImageFolder({ root, height: 4, width: 4, channels: 1 }),
    join(root, 'README'),
    /unexpected file/,
  );
});

test('loadPools with a separate test folder checks the classes agree', () => {
  const pools = loadPools({
    kind: 'image-folder',
    train: { root: GOOD },
    test: { root: join(FOLDERS, 'good-test') },
    height: 8,
    width: 8,
    channels: 3,
  });
  assert.equal(pools.train.count, 7);
  assert.equal(pools.test?.count, 3);
  assert.deepEqual(pools.test?.classNames, pools.train.classNames);
  assert.throws(
    () =>
      loadPools({
        kind: 'image-folder',
        train: { root: GOOD },
        test: { root: join(FOLDERS, 'corrupt-png') },
        height: 8,
        width: 8,
        channels: 3,
        skipBad: true,
        onSkip: () => {},
      }),
    /has classes \[a, b\], training folder .* has \[circle, square, triangle\]/,
  );
});

test('a missing image folder names the folder', () => {
  const root = join(FOLDERS, 'missing');
  assertDatasetError(
    () => loadImageFolder({ root, height: 4, width: 4, channels: 1 }),
    root,
    /cannot read image folder/,
  );
});
