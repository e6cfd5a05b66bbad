// The data a search needs, from its config: train / validation / board subset / test splits of the
// configured dataset, checked against the space's input, plus normalisation and augmentation.
import {
  type AugmentOptions,
  type Batch,
  type DataSplits,
  type DatasetPreset,
  type DatasetSpec,
  evalBatches,
  FASHION_MNIST_PRESET,
  loadPools,
  MNIST_PRESET,
  makeSplits,
  type NormalizeOptions,
  searchAugment,
} from '../data/index.ts';
import type { SearchSpace } from '../space/index.ts';
import type { SearchConfig } from './search-config.ts';

export class DataMismatchError extends Error {
  override name = 'DataMismatchError';
}

export interface SearchData {
  splits: DataSplits;
  normalize: NormalizeOptions;
  augment: AugmentOptions;
  /** The board's validation subset, normalised once (it is evaluated many times). */
  boardBatches: Batch[];
}

function datasetSpec(config: SearchConfig, space: SearchSpace): { spec: DatasetSpec; preset: DatasetPreset } {
  const d = config.data;
  if (d.dataset === 'image-folder') {
    if (!d.trainRoot && !d.trainList) {
      throw new DataMismatchError('data.dataset image-folder needs data.trainRoot or data.trainList');
    }
    const channels = space.inputChannels;
    const spec: DatasetSpec = {
      kind: 'image-folder',
      train: { root: d.trainRoot, listFile: d.trainList },
      test: d.testRoot || d.testList ? { root: d.testRoot, listFile: d.testList } : undefined,
      height: space.resolution,
      width: space.resolution,
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
        cropPadding: Math.max(1, Math.round(space.resolution / 8)),
        split: { val: d.val, valSubset: d.valSubset },
      },
    };
  }
  const preset = d.dataset === 'mnist' ? MNIST_PRESET : FASHION_MNIST_PRESET;
  return { spec: { kind: d.dataset, dir: d.dir }, preset };
}

export function loadSearchData(config: SearchConfig, space: SearchSpace, evalBatchSize: number): SearchData {
  const { spec, preset } = datasetSpec(config, space);
  const pools = loadPools(spec);
  const img = pools.train;
  if (img.height !== space.resolution || img.width !== space.resolution || img.channels !== space.inputChannels) {
    throw new DataMismatchError(
      `dataset ${config.data.dataset} has ${img.height}x${img.width}x${img.channels} images, but space ${space.name} ` +
        `expects ${space.resolution}x${space.resolution}x${space.inputChannels}`,
    );
  }
  if (img.numClasses !== space.classes) {
    throw new DataMismatchError(
      `dataset ${config.data.dataset} has ${img.numClasses} classes, but space ${space.name} has ${space.classes}`,
    );
  }
  const d = config.data;
  const splits = makeSplits(pools, {
    seed: config.seed,
    train: d.train,
    val: d.val,
    valSubset: d.valSubset,
    test: d.test,
  });
  const normalize = preset.normalize;
  const boardBatches = [...evalBatches(splits.valSubset, { batchSize: evalBatchSize, normalize })];
  return { splits, normalize, augment: searchAugment(preset, normalize), boardBatches };
}
