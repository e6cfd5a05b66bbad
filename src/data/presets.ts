// Per-dataset defaults and one entry point that loads a dataset's pools from a config-like spec.
// The split sizes follow the paper's protocol scaled to each dataset: the training files are
// divided into train and a held-out validation set, the board scores paths on a fixed stratified
// subset of that validation set, and the published test files stay unseen until the end.

import type { AugmentOptions, NormalizeOptions } from './augment.ts';
import { convertChannels, type ImageDataset, resizeDataset } from './dataset.ts';
import { loadImageFolder } from './image-folder.ts';
import { loadFashionMnist, loadMnist } from './packaged.ts';
import type { DataPools, SplitOptions } from './split.ts';

export interface DatasetPreset {
  normalize: NormalizeOptions;
  /** Whether mirrored images are still valid members of their class. */
  flip: boolean;
  cropPadding: number;
  split: Omit<SplitOptions, 'seed'>;
}

/** Fashion-MNIST: the mean/std of the 60,000 training images; clothes may be mirrored. */
export const FASHION_MNIST_PRESET: DatasetPreset = {
  normalize: { mean: [0.286], std: [0.353] },
  flip: true,
  cropPadding: 2,
  split: { train: 50000, val: 10000, valSubset: 2048, test: 10000 },
};

/** MNIST: the usual 0.1307/0.3081; a mirrored digit is not a digit, so no flip. */
export const MNIST_PRESET: DatasetPreset = {
  normalize: { mean: [0.1307], std: [0.3081] },
  flip: false,
  cropPadding: 2,
  split: { train: 50000, val: 10000, valSubset: 2048, test: 10000 },
};

/** The search-phase augmentation of a preset: crop and flip only (RandAugment and erasing are for retraining). */
export function searchAugment(preset: DatasetPreset, normalize: NormalizeOptions = preset.normalize): AugmentOptions {
  return { normalize, cropPadding: preset.cropPadding, flip: preset.flip };
}

/** Where a dataset's images are and in what size and channels the network wants them. */
export type DatasetSpec =
  | {
      kind: 'fashion-mnist' | 'mnist';
      /** Folder with the IDX files, replacing the packaged location. */
      dir?: string;
      /** Resize to this size (default 28x28, the files' own). */
      height?: number;
      width?: number;
      /** 1 (default) or 3 (grey replicated, for 3-channel stems). */
      channels?: number;
    }
  | {
      kind: 'image-folder';
      /** Training pool: a class-per-folder root, or a list file (with optional root). */
      train: { root?: string; listFile?: string };
      /** Test pool, if the data has one; otherwise the split holds test images out of train. */
      test?: { root?: string; listFile?: string };
      height: number;
      width: number;
      channels: number;
      classNames?: string[];
      skipBad?: boolean;
      onSkip?: (path: string, reason: string) => void;
      onProgress?: (done: number, total: number) => void;
    };

function reshape(dataset: ImageDataset, height?: number, width?: number, channels?: number): ImageDataset {
  const resized = resizeDataset(dataset, height ?? dataset.height, width ?? dataset.width);
  return convertChannels(resized, channels ?? resized.channels);
}

/** Loads the training and test pools of a dataset (split them with makeSplits). */
export function loadPools(spec: DatasetSpec): DataPools {
  if (spec.kind !== 'image-folder') {
    const load = spec.kind === 'mnist' ? loadMnist : loadFashionMnist;
    const opts = { dir: spec.dir };
    return {
      train: reshape(load('train', opts), spec.height, spec.width, spec.channels),
      test: reshape(load('test', opts), spec.height, spec.width, spec.channels),
    };
  }
  const { height, width, channels, classNames, skipBad, onSkip, onProgress } = spec;
  const common = { height, width, channels, classNames, skipBad, onSkip, onProgress };
  const train = loadImageFolder({ ...spec.train, ...common });
  if (!spec.test) return { train };
  // Test labels must mean what training labels mean: a test list file takes the training class
  // names (so its labels are checked against them), a test folder must have the same class folders.
  const testClassNames = classNames ?? (spec.test.listFile ? train.classNames : undefined);
  const test = loadImageFolder({ ...spec.test, ...common, classNames: testClassNames });
  if (test.classNames.join('\n') !== train.classNames.join('\n')) {
    throw new RangeError(
      `test folder ${test.source} has classes [${test.classNames.join(', ')}], training folder ${train.source} has [${train.classNames.join(', ')}]`,
    );
  }
  return { train, test };
}
