// Public API of retraining: config, trainer, report and the model-file format.
export { type ArchInput, checkArch, readArchFile } from './arch-input.ts';
export { completeRetrain, type RetrainRunHooks } from './complete-retrain.ts';
export { emaDecayAt, updateEma } from './ema-schedule.ts';
export {
  CHECKPOINT_FILE,
  describeModel,
  FINAL_FILE,
  type LoadedModel,
  loadModelFile,
  type ModelDescription,
  modelFilePath,
} from './model-file.ts';
export {
  loadRetrainConfigFile,
  loadRetrainPreset,
  peakLearningRate,
  RETRAIN_PRESETS,
  type RetrainConfig,
  RetrainConfigError,
  retrainConfigSchema,
  validateRetrainConfig,
  withRetrainOverrides,
} from './retrain-config.ts';
export { loadRetrainData, type RetrainData } from './retrain-data.ts';
export { writeRetrainReport } from './retrain-report.ts';
export {
  type RetrainEpochMetrics,
  RetrainError,
  type RetrainEvents,
  Retrainer,
  type RetrainMetrics,
  type RetrainResult,
  type RetrainStepMetrics,
} from './retrain-trainer.ts';
