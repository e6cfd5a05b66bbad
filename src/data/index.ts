// Public API of the data layer: datasets, splits, augmentation, batches and loaders.

export {
  Augmenter,
  type AugmentOptions,
  type ErasingOptions,
  type NormalizeOptions,
  normalizationTable,
  normalizeInto,
} from './augment.ts';
export { type Batch, BatchMaker, batchesPerEpoch, batchSeed, epochOrder, type PixelSource } from './batch.ts';
export {
  classCounts,
  convertChannels,
  createDataset,
  type ImageDataset,
  resizeDataset,
  toShared,
} from './dataset.ts';
export { DatasetError, SplitMismatchError } from './errors.ts';
export { type EvalBatchOptions, evalBatchCount, evalBatches } from './eval-batches.ts';
export { encodeIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, type IdxArray, parseIdx, readIdx } from './idx.ts';
export { type DecodedImage, decodeImage, IMAGE_EXTENSIONS, readImageInto } from './image-decode.ts';
export {
  type ImageFolderDataset,
  type ImageFolderOptions,
  loadImageFolder,
  type SkippedFile,
} from './image-folder.ts';
export { BatchLoader, type BatchLoaderOptions, type LoadedBatch, type LoaderPosition } from './loader.ts';
export {
  checkPoolsFit,
  DataMismatchError,
  type DatasetChoice,
  datasetForNetwork,
  type NetworkInput,
} from './network-dataset.ts';
export {
  type DatasetPart,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  loadFashionMnist,
  loadIdxDataset,
  loadMnist,
  MNIST_CLASSES,
  mnistPackageDir,
  type PackagedOptions,
} from './packaged.ts';
export {
  type DatasetPreset,
  type DatasetSpec,
  FASHION_MNIST_PRESET,
  loadPools,
  MNIST_PRESET,
  searchAugment,
} from './presets.ts';
export {
  DEFAULT_RAND_AUGMENT_OPS,
  RAND_AUGMENT_OPS,
  type RandAugmentOp,
  type RandAugmentOptions,
  randAugment,
} from './rand-augment.ts';
export { resizeBilinear } from './resize.ts';
export { deriveSeed, Rng, type RngState } from './rng.ts';
export {
  allocateStratified,
  type DataPools,
  type DataSplits,
  makeSplits,
  type SplitOptions,
  type Subset,
  type SubsetName,
} from './split.ts';
export {
  type DatasetFingerprint,
  describeSplit,
  fingerprintDataset,
  restoreSplits,
  type SplitDescription,
  type SubsetDescription,
  verifySplit,
} from './split-describe.ts';
export { channelStats } from './stats.ts';
