// Writes the small data fixtures under test/fixtures/data (a few kilobytes, committed).
// Deterministic: running it again produces identical bytes, so a diff shows only intended changes.
//   node --import tsx scripts/make-data-fixtures.ts
//
// idx/fashion-like/   the four Fashion-MNIST file names, 10 classes, 8x7 images (train gzipped, test plain)
// idx/bad/            truncated, wrong magic, truncated gzip, and a label/image count mismatch
// folders/good/       three class folders: grey and RGB PNGs, JPEGs, a nested folder, an upper-case extension
// folders/good-test/  the same classes, for a separate test pool
// folders/list.txt    `path label` lines over folders/good
// folders/corrupt-png/, corrupt-jpeg/, unknown-ext/   one bad file each among good ones
// (An empty class folder cannot be committed to git; the tests create one in a temporary folder.)

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { encodeIdx } from '../src/data/idx.ts';
import { Rng } from '../src/data/rng.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'data');
const rng = new Rng(2020);

function write(rel: string, bytes: Uint8Array | string): void {
  const path = join(ROOT, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** An 8x7 grey image whose brightness encodes its class, so tests can tell images apart. */
function idxImages(labels: number[], height: number, width: number): Uint8Array {
  const out = new Uint8Array(labels.length * height * width);
  labels.forEach((label, n) => {
    for (let i = 0; i < height * width; i++) out[n * height * width + i] = (label * 25 + rng.int(20)) & 0xff;
  });
  return out;
}

function makeIdx(): void {
  const H = 8;
  const W = 7;
  const trainLabels = Array.from({ length: 60 }, (_, i) => i % 10);
  const testLabels = Array.from({ length: 20 }, (_, i) => i % 10);
  const dir = 'idx/fashion-like';
  write(`${dir}/train-images-idx3-ubyte.gz`, encodeIdx([60, H, W], idxImages(trainLabels, H, W), true));
  write(`${dir}/train-labels-idx1-ubyte.gz`, encodeIdx([60], Uint8Array.from(trainLabels), true));
  write(`${dir}/t10k-images-idx3-ubyte`, encodeIdx([20, H, W], idxImages(testLabels, H, W)));
  write(`${dir}/t10k-labels-idx1-ubyte`, encodeIdx([20], Uint8Array.from(testLabels)));

  const images = encodeIdx([4, H, W], idxImages([0, 1, 2, 3], H, W));
  write('idx/bad/truncated-images-idx3-ubyte', images.subarray(0, images.length - 5));
  const wrongMagic = Buffer.from(images);
  wrongMagic.writeUInt32BE(0x0804, 0);
  write('idx/bad/wrong-magic-idx3-ubyte', wrongMagic);
  const gz = encodeIdx([4, H, W], idxImages([0, 1, 2, 3], H, W), true);
  write('idx/bad/truncated-images-idx3-ubyte.gz', gz.subarray(0, Math.floor(gz.length / 2)));
  write('idx/bad/mismatch/train-images-idx3-ubyte', encodeIdx([4, H, W], idxImages([0, 1, 2, 3], H, W)));
  write('idx/bad/mismatch/train-labels-idx1-ubyte', encodeIdx([3], Uint8Array.from([0, 1, 2])));
}

/** RGBA pixels of a width x height image; grey images have R = G = B. */
function pixels(width: number, height: number, grey: boolean, base: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const v = (base + rng.int(40)) & 0xff;
    data[i * 4] = v;
    data[i * 4 + 1] = grey ? v : (v + 60) & 0xff;
    data[i * 4 + 2] = grey ? v : (v + 120) & 0xff;
    data[i * 4 + 3] = 255;
  }
  return data;
}

function png(width: number, height: number, grey: boolean, base: number): Buffer {
  const image = new PNG({ width, height, colorType: grey ? 0 : 2, inputColorType: 6, bitDepth: 8 });
  pixels(width, height, grey, base).copy(image.data);
  return PNG.sync.write(image, { colorType: grey ? 0 : 2, inputColorType: 6 });
}

function jpg(width: number, height: number, base: number): Buffer {
  return jpeg.encode({ width, height, data: pixels(width, height, false, base) }, 90).data;
}

function makeFolders(): void {
  write('folders/good/circle/a.png', png(10, 12, true, 20));
  write('folders/good/circle/b.png', png(10, 12, false, 30));
  write('folders/good/circle/c.jpg', jpg(16, 16, 40));
  write('folders/good/square/a.png', png(6, 5, true, 120));
  write('folders/good/square/b.jpeg', jpg(8, 8, 130));
  write('folders/good/triangle/nested/a.png', png(10, 12, false, 200));
  write('folders/good/triangle/b.PNG', png(10, 12, true, 210));
  write('folders/good-test/circle/a.png', png(10, 12, true, 25));
  write('folders/good-test/square/a.png', png(10, 12, true, 125));
  write('folders/good-test/triangle/a.jpg', jpg(16, 16, 205));
  write(
    'folders/list.txt',
    [
      '# path label',
      'good/circle/a.png 0',
      'good/square/a.png 1',
      '',
      'good/triangle/nested/a.png 2',
      'good/circle/c.jpg 0',
    ].join('\n') + '\n',
  );

  const okPng = png(10, 12, true, 60);
  const badPng = png(10, 12, true, 70);
  write('folders/corrupt-png/a/ok.png', okPng);
  write('folders/corrupt-png/a/bad.png', badPng.subarray(0, Math.floor(badPng.length / 2)));
  write('folders/corrupt-png/b/ok.png', okPng);
  const badJpg = jpg(16, 16, 80);
  write('folders/corrupt-jpeg/a/ok.png', okPng);
  write('folders/corrupt-jpeg/a/bad.jpg', badJpg.subarray(0, Math.floor(badJpg.length / 2)));
  write('folders/corrupt-jpeg/b/ok.png', okPng);
  write('folders/unknown-ext/a/ok.png', okPng);
  write('folders/unknown-ext/a/notes.txt', 'not an image\n');
  write('folders/unknown-ext/b/ok.png', okPng);
}

rmSync(ROOT, { recursive: true, force: true });
makeIdx();
makeFolders();
console.log(`wrote fixtures under ${ROOT}`);
