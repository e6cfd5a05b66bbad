// Shared helpers of the data tests: fixture paths and small synthetic datasets.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDataset, type ImageDataset } from '../../src/data/dataset.ts';
import { Rng } from '../../src/data/rng.ts';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'data');

/** A dataset of `perClass[c]` images of class c, pixels random but reproducible. */
export function syntheticDataset(perClass: number[], height = 6, width = 5, channels = 1, seed = 1): ImageDataset {
  const count = perClass.reduce((a, b) => a + b, 0);
  const rng = new Rng(seed);
  const labels = new Int32Array(count);
  let n = 0;
  perClass.forEach((k, c) => {
    for (let i = 0; i < k; i++) labels[n++] = c;
  });
  rng.shuffle(labels); // classes interleaved, as in real files
  const images = new Uint8Array(count * height * width * channels);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  return createDataset({
    name: 'synthetic',
    source: 'memory',
    count,
    height,
    width,
    channels,
    images,
    labels,
    numClasses: perClass.length,
    classNames: perClass.map((_, c) => `class${c}`),
  });
}
