// The library: what `import { ... } from 'cream-ts'` gives. Each layer's own index lists its API.
export * as baselines from './baselines/index.ts';
export * from './cream/board.ts';
export { distillationLoss, type KdWeighting, lossWeights } from './cream/distillation.ts';
export { createMetaMatchingNetwork, MetaMatchingNetwork } from './cream/meta-matching.ts';
export { lookaheadRhoGradient } from './cream/meta-update.ts';
export {
  ConfigError,
  loadSearchConfigFile,
  loadSearchPreset,
  type SearchConfig,
  validateSearchConfig,
  withOverrides,
} from './cream/search-config.ts';
export { openSearchRun, type SearchRun } from './cream/search-run.ts';
export {
  type Candidate,
  CreamSearch,
  type SearchEvents,
  type SearchResult,
  type StepMetrics,
} from './cream/search-trainer.ts';
export { chooseTeacher, type TeacherMode } from './cream/teacher.ts';
export * as data from './data/index.ts';
export { type AblationResult, runAblation } from './eval/ablation.ts';
export { type AblationConfig, loadAblationConfigFile, loadAblationPreset } from './eval/ablation-config.ts';
export { type EvalResult, evaluate } from './eval/accuracy.ts';
export { recalibrateBatchNorm } from './eval/bn-recalibration.ts';
export { kendallTau, spearmanRho } from './eval/rank-correlation.ts';
export { type RankResult, runRankExperiment, writeRankReport } from './eval/rank-experiment.ts';
export { scratchAccuracies } from './eval/scratch-accuracy.ts';
export { loadCheckpoint, saveCheckpoint } from './io/checkpoint.ts';
export { readSafetensors, readSafetensorsSync, writeSafetensors, writeSafetensorsSync } from './io/safetensors.ts';
export * from './models/index.ts';
export * as nn from './nn/index.ts';
export * as optim from './optim/index.ts';
export * as retrain from './retrain/index.ts';
export * as space from './space/index.ts';
export * as tensor from './tensor/index.ts';
