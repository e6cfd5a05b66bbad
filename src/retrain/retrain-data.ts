// The data of a retraining run: train / validation / test splits of the configured dataset (the
// same split rule and seed as the search, so a search's validation images stay held out), checked
// against the space's input, with the retraining augmentation (crop, flip, RandAugment, erasing).
import {
  type AugmentOptions,
  type DataPools,
  type DataSplits,
  type DatasetPreset,
  type DatasetSpec,
  FASHION_MNIST_PRESET,
  loadPools,
  MNIST_PRESET,
  makeSplits,
  type NormalizeOptions,
} from '../data/index.ts';
import type { SearchSpace } from '../space/index.ts';
import type { RetrainConfig } from './retrain-config.ts';

export class RetrainDataError extends Error {
  override name = 'DataMismatchError';
}

export interface RetrainData {
  splits: DataSplits;
  normalize: NormalizeOptions;
  augment: AugmentOptions;
}

/** Where the images are and the dataset's defaults (normalisation, flips, crop padding). */
export function retrainDatasetSpec(
  data: RetrainConfig['data'],
  space: SearchSpace,
): { spec: DatasetSpec; preset: DatasetPreset } {
  if (data.dataset === 'image-folder') {
    if (!data.trainRoot && !data.trainList) {
      throw new RetrainDataError('data.dataset image-folder needs data.trainRoot or data.trainList');
    }
    const channels = space.inputChannels;
    const spec: DatasetSpec = {
      kind: 'image-folder',
      train: { root: data.trainRoot, listFile: data.trainList },
      test: data.testRoot || data.testList ? { root: data.testRoot, listFile: data.testList } : undefined,
      height: space.resolution,
      width: space.resolution,
      channels,
    };
    // ImageNet statistics for RGB folders; mid-grey for anything else (as the search does).
    const normalize =
      channels === 3
        ? { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }
        : { mean: Array(channels).fill(0.5), std: Array(channels).fill(0.25) };
    return {
      spec,
      preset: {
        normalize,
        flip: true,
        cropPadding: Math.max(1, Math.round(space.resolution / 8)),
        split: { val: data.val, valSubset: 0 },
      },
    };
  }
  const preset = data.dataset === 'mnist' ? MNIST_PRESET : FASHION_MNIST_PRESET;
  return { spec: { kind: data.dataset, dir: data.dir }, preset };
}

/** Checks that the dataset's images and classes are what the space's network takes. */
export function checkPoolsFit(pools: DataPools, space: SearchSpace, dataset: string): void {
  const img = pools.train;
  if (img.height !== space.resolution || img.width !== space.resolution || img.channels !== space.inputChannels) {
    throw new RetrainDataError(
      `dataset ${dataset} has ${img.height}x${img.width}x${img.channels} images, but space ${space.name} ` +
        `expects ${space.resolution}x${space.resolution}x${space.inputChannels}`,
    );
  }
  if (img.numClasses !== space.classes) {
    throw new RetrainDataError(
      `dataset ${dataset} has ${img.numClasses} classes, but space ${space.name} has ${space.classes}`,
    );
  }
}

export function loadRetrainData(config: RetrainConfig, space: SearchSpace): RetrainData {
  const { spec, preset } = retrainDatasetSpec(config.data, space);
  const pools = loadPools(spec);
  checkPoolsFit(pools, space, config.data.dataset);
  const d = config.data;
  // No board subset in retraining: valSubset 0 leaves train, val and test exactly as the search's.
  const splits = makeSplits(pools, { seed: config.seed, train: d.train, val: d.val, valSubset: 0, test: d.test });
  const a = config.augment;
  const normalize = preset.normalize;
  const augment: AugmentOptions = {
    normalize,
    cropPadding: a.cropPadding ?? preset.cropPadding,
    flip: a.flip ?? preset.flip,
    randAugment: a.randAugment && a.randAugment.ops > 0 ? { ...a.randAugment } : null,
    erasing: a.erasing && a.erasing.probability > 0 ? { ...a.erasing } : null,
  };
  return { splits, normalize, augment };
}
