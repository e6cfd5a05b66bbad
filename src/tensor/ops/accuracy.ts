import { native } from '../native.ts';
import type { Tensor } from '../tensor.ts';
import { checkLabels } from './cross-entropy.ts';

/** Fraction of rows whose label has the largest logit (ties: the lowest class index wins). No gradient. */
export function accuracy(logits: Tensor, labels: Tensor): number {
  return topKAccuracy(logits, labels, 1);
}

/** Fraction of rows whose label is among the k largest logits (top-5: k = 5). No gradient. */
export function topKAccuracy(logits: Tensor, labels: Tensor, k: number): number {
  const op = k === 1 ? 'accuracy' : 'topKAccuracy';
  checkLabels(op, logits, labels);
  if (!Number.isInteger(k) || k < 1) throw new Error(`${op}: k must be a positive integer, got ${k}`);
  const [N, C] = logits.shape;
  return (native.topkHits(logits.f32, labels.i32, N, C, k) as number) / N;
}
