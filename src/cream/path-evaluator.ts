// Scores supernet paths: validation accuracy of one path with BN in inference mode (board entry and
// re-scoring), and the final choice after BN re-calibration.
import type { Batch } from '../data/index.ts';
import { evaluate, type EvalResult } from '../eval/accuracy.ts';
import { recalibrateBatchNorm } from '../eval/bn-recalibration.ts';
import type { Supernet } from '../models/index.ts';
import type { Arch } from '../space/index.ts';

/** Top-1 of `path` on `batches`, BN in inference mode (running statistics). */
export function pathAccuracy(supernet: Supernet, path: Arch, batches: Iterable<Batch>): EvalResult {
  const wasTraining = supernet.training;
  supernet.eval();
  try {
    return evaluate((x) => supernet.forward(x, path), batches);
  } finally {
    supernet.train(wasTraining);
  }
}

/**
 * Re-estimates the BN statistics of `path` on `calibration` batches, then evaluates it. Note that
 * this overwrites the running statistics of the path's BN layers in the supernet.
 */
export function recalibratedPathAccuracy(
  supernet: Supernet,
  path: Arch,
  calibration: Iterable<Batch>,
  evaluation: Iterable<Batch>,
): EvalResult {
  const wasTraining = supernet.training;
  try {
    recalibrateBatchNorm(
      supernet.pathModules(path),
      (t) => supernet.train(t),
      (x) => supernet.forward(x, path),
      calibration,
    );
    supernet.eval();
    return evaluate((x) => supernet.forward(x, path), evaluation);
  } finally {
    supernet.train(wasTraining);
  }
}
