// Scores supernet paths. During the search a path is judged with batch-norm batch statistics
// (training-mode BN, no dropout, running statistics restored afterwards): each op's running
// statistics mix the inputs of many paths and, early on, of very few steps, so inference-mode BN
// would score nearly every path at chance. The final choice re-calibrates BN properly instead.
import type { Batch } from '../data/index.ts';
import { type EvalResult, evaluate } from '../eval/accuracy.ts';
import { recalibrateBatchNorm } from '../eval/bn-recalibration.ts';
import type { Supernet } from '../models/index.ts';
import type { Arch } from '../space/index.ts';
import { noGrad } from '../tensor/index.ts';

/**
 * Runs `fn` with the supernet in training mode (BN normalises with batch statistics) but without
 * dropout and without a tape, then restores the running statistics of the modules of `paths`.
 */
export function withBatchStatistics<T>(supernet: Supernet, paths: Arch[], fn: () => T): T {
  const buffers = paths.flatMap((p) => supernet.pathModules(p).flatMap((m) => [...m.namedBuffers()].map(([, b]) => b)));
  const unique = [...new Set(buffers)];
  const saved = unique.map((b) => b.f32.slice());
  const wasTraining = supernet.training;
  supernet.train();
  supernet.head.dropoutEnabled = false;
  try {
    return noGrad(fn);
  } finally {
    supernet.head.dropoutEnabled = true;
    supernet.train(wasTraining);
    unique.forEach((b, i) => {
      b.f32.set(saved[i]);
    });
  }
}

/** Top-1 of `path` on `batches` with batch statistics (see above). */
export function pathAccuracy(supernet: Supernet, path: Arch, batches: Iterable<Batch>): EvalResult {
  return withBatchStatistics(supernet, [path], () => evaluate((x) => supernet.forward(x, path), batches));
}

/**
 * Re-estimates the BN statistics of `path` on `calibration` batches, then evaluates it in inference
 * mode. This overwrites the running statistics of the path's BN layers in the supernet.
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
