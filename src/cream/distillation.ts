// The student's loss of Eq. 5: label-smoothed cross-entropy plus rho times the distillation term,
// KD = sum_c -softmax(q)_c log softmax(p)_c at temperature 1, with rho a constant for the student.
import { add, crossEntropy, scale, softTargetCrossEntropy, type Tensor } from '../tensor/index.ts';

/** `paper`: CE + rho KD (Eq. 5). `official`: (rho KD + (2 - rho) CE) / 2, as the released code. */
export type KdWeighting = 'paper' | 'official';

export interface DistillationLoss {
  total: Tensor;
  ce: Tensor;
  kd: Tensor | null;
}

/** The weights of (CE, KD) in the total loss. */
export function lossWeights(rho: number, weighting: KdWeighting): { ce: number; kd: number } {
  if (!(rho >= 0 && rho <= 1)) throw new Error(`distillation: rho must be in [0, 1], got ${rho}`);
  return weighting === 'paper' ? { ce: 1, kd: rho } : { ce: (2 - rho) / 2, kd: rho / 2 };
}

export function distillationLoss(
  logits: Tensor,
  labels: Tensor,
  teacherProbs: Tensor | null,
  rho: number,
  opts: { labelSmoothing: number; weighting: KdWeighting },
): DistillationLoss {
  const ce = crossEntropy(logits, labels, { labelSmoothing: opts.labelSmoothing });
  if (!teacherProbs) return { total: ce, ce, kd: null };
  const kd = softTargetCrossEntropy(logits, teacherProbs);
  const w = lossWeights(rho, opts.weighting);
  const weightedCe = w.ce === 1 ? ce : scale(ce, w.ce);
  return { total: add(weightedCe, scale(kd, w.kd)), ce, kd };
}
