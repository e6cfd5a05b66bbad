// Which dataset a network's config names, and the check that its images fit the network's input.
// Shared by search, retrain and eval. `NetworkInput` is structural, so a resolved SearchSpace
// passes as is without this layer importing the space layer.

import { type DatasetPreset, type DatasetSpec, FASHION_MNIST_PRESET, MNIST_PRESET } from './presets.ts';
import type { DataPools } from './split.ts';

export interface NetworkInput {
  name: string;
  resolution: number;
  inputChannels: number;
  classes: number;
}

export interface DatasetChoice {
  dataset: 'fashion-mnist' | 'mnist' | 'image-folder';
  dir?: string;
  trainRoot?: string;
  trainList?: string;
  testRoot?: string;
  testList?: string;
  val: number;
  valSubset?: number;
}

/** A dataset that does not match the network's input, or an incomplete dataset choice. */
export class DataMismatchError extends Error {
  override name = 'DataMismatchError';
}

export function datasetForNetwork(d: DatasetChoice, input: NetworkInput): { spec: DatasetSpec; preset: DatasetPreset } {
  if (d.dataset !== 'image-folder') {
    const preset = d.dataset === 'mnist' ? MNIST_PRESET : FASHION_MNIST_PRESET;
    return { spec: { kind: d.dataset, dir: d.dir }, preset };
  }
  if (!d.trainRoot && !d.trainList) {
    throw new DataMismatchError('data.dataset image-folder needs data.trainRoot or data.trainList');
  }
  const channels = input.inputChannels;
  const spec: DatasetSpec = {
    kind: 'image-folder',
    train: { root: d.trainRoot, listFile: d.trainList },
    test: d.testRoot || d.testList ? { root: d.testRoot, listFile: d.testList } : undefined,
    height: input.resolution,
    width: input.resolution,
    channels,
  };
  // ImageNet statistics for RGB folders; mid-grey for anything else.
  const normalize =
    channels === 3
      ? { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }
      : { mean: Array(channels).fill(0.5), std: Array(channels).fill(0.25) };
  return {
    spec,
    preset: {
      normalize,
      flip: true,
      cropPadding: Math.max(1, Math.round(input.resolution / 8)),
      split: { val: d.val, valSubset: d.valSubset ?? 0 },
    },
  };
}

/** Throws a DataMismatchError when the images or classes are not what the network takes. */
export function checkPoolsFit(pools: DataPools, input: NetworkInput, dataset: string): void {
  const img = pools.train;
  if (img.height !== input.resolution || img.width !== input.resolution || img.channels !== input.inputChannels) {
    throw new DataMismatchError(
      `dataset ${dataset} has ${img.height}x${img.width}x${img.channels} images, but space ${input.name} ` +
        `expects ${input.resolution}x${input.resolution}x${input.inputChannels}`,
    );
  }
  if (img.numClasses !== input.classes) {
    throw new DataMismatchError(
      `dataset ${dataset} has ${img.numClasses} classes, but space ${input.name} has ${input.classes}`,
    );
  }
}
