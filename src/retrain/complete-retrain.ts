// A whole retraining run in one call: continue from the folder's checkpoint when there is one,
// train, evaluate the final weights, write the report. `cream retrain` and the ablation experiment
// both retrain this way; they differ only in how they show progress.
import type { RunFolder } from '../io/run-folder.ts';
import { CHECKPOINT_FILE } from './model-file.ts';
import type { RetrainConfig } from './retrain-config.ts';
import { writeRetrainReport } from './retrain-report.ts';
import { type RetrainEvents, Retrainer, type RetrainResult } from './retrain-trainer.ts';

export interface RetrainRunHooks extends RetrainEvents {
  /** Training starts at `trainer.step` of `trainer.totalSteps`; `resumed` when a checkpoint was loaded. */
  onTrainingStart?(trainer: Retrainer, resumed: boolean): void;
  /** Training is over; the final evaluation follows. */
  onTrainingEnd?(): void;
}

export async function completeRetrain(
  config: RetrainConfig,
  run: RunFolder,
  hooks: RetrainRunHooks = {},
): Promise<RetrainResult> {
  const trainer = new Retrainer(config, run);
  try {
    const resumed = run.exists(CHECKPOINT_FILE);
    if (resumed) trainer.resume();
    hooks.onTrainingStart?.(trainer, resumed);
    await trainer.train(hooks);
    hooks.onTrainingEnd?.();
    const result = trainer.finish();
    writeRetrainReport(run, result);
    return result;
  } finally {
    trainer.dispose();
  }
}
