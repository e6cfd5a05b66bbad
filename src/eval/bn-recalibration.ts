// BN re-calibration: a path of a supernet was trained with batch-norm statistics shared with other
// paths, so before judging it we recompute its statistics as the exact average over a few training
// batches (momentum 1/(k+1) for batch k), leaving all weights untouched.
import type { Batch } from '../data/index.ts';
import { BatchNorm2d, type Module } from '../nn/index.ts';
import { noGrad, type Tensor, tidy } from '../tensor/index.ts';
import { batchTensors } from './accuracy.ts';

/** Every BatchNorm2d inside `modules` (recursively). */
export function batchNorms(modules: Iterable<Module>): BatchNorm2d[] {
  const found = new Set<BatchNorm2d>();
  const visit = (m: Module): void => {
    if (m instanceof BatchNorm2d) found.add(m);
    for (const [, child] of m.children()) visit(child);
  };
  for (const m of modules) visit(m);
  return [...found];
}

/**
 * Resets the running statistics of the batch-norms in `modules` and re-estimates them by running
 * `forward` in training mode over `batches`. `setTraining` switches the network's mode (training
 * mode is needed for BN to use and record batch statistics; dropout is irrelevant: no gradient).
 */
export function recalibrateBatchNorm(
  modules: Iterable<Module>,
  setTraining: (training: boolean) => void,
  forward: (images: Tensor) => Tensor,
  batches: Iterable<Batch>,
): number {
  const norms = batchNorms(modules);
  const saved = norms.map((bn) => bn.momentum);
  for (const bn of norms) bn.resetRunningStats();
  let k = 0;
  setTraining(true);
  try {
    noGrad(() => {
      for (const batch of batches) {
        for (const bn of norms) bn.momentum = 1 / (k + 1);
        tidy(() => {
          forward(batchTensors(batch).images);
        });
        k++;
      }
    });
  } finally {
    norms.forEach((bn, i) => {
      bn.momentum = saved[i];
    });
    setTraining(false);
  }
  if (k === 0) throw new Error('recalibrateBatchNorm: no batches given');
  return k;
}
