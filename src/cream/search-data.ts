// The data a search needs, from its config: train / validation / board subset / test splits of the
// configured dataset, checked against the space's input, plus normalisation and augmentation.
import {
  type AugmentOptions,
  type Batch,
  checkPoolsFit,
  type DataSplits,
  datasetForNetwork,
  evalBatches,
  loadPools,
  makeSplits,
  type NormalizeOptions,
  searchAugment,
} from '../data/index.ts';
import type { SearchSpace } from '../space/index.ts';
import type { SearchConfig } from './search-config.ts';

export interface SearchData {
  splits: DataSplits;
  normalize: NormalizeOptions;
  augment: AugmentOptions;
  /** The board's validation subset, normalised once (it is evaluated many times). */
  boardBatches: Batch[];
}

export function loadSearchData(config: SearchConfig, space: SearchSpace, evalBatchSize: number): SearchData {
  const { spec, preset } = datasetForNetwork(config.data, space);
  const pools = loadPools(spec);
  checkPoolsFit(pools, space, config.data.dataset);
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
