// The data of a retraining run: train / validation / test splits of the configured dataset (the
// same split rule and seed as the search, so a search's validation images stay held out), checked
// against the space's input, with the retraining augmentation (crop, flip, RandAugment, erasing).
import {
  type AugmentOptions,
  checkPoolsFit,
  type DataSplits,
  type DatasetPreset,
  type DatasetSpec,
  datasetForNetwork,
  loadPools,
  makeSplits,
  type NormalizeOptions,
} from '../data/index.ts';
import type { SearchSpace } from '../space/index.ts';
import type { RetrainConfig } from './retrain-config.ts';

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
  return datasetForNetwork({ ...data, valSubset: 0 }, space);
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
