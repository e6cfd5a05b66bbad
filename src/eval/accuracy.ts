// Top-1 / top-5 accuracy and mean cross-entropy of a network over evaluation batches, without the tape.
import type { Batch } from '../data/index.ts';
import { noGrad, Tensor, tidy } from '../tensor/index.ts';

export interface EvalResult {
  top1: number;
  top5: number;
  /** Mean cross-entropy (no label smoothing). */
  loss: number;
  count: number;
}

/** Wraps a data batch as engine tensors (NHWC images, int32 labels). */
export function batchTensors(batch: Batch): { images: Tensor; labels: Tensor } {
  const images = Tensor.from(batch.images, [batch.size, batch.height, batch.width, batch.channels]);
  const labels = Tensor.from(batch.labels, [batch.size], 'int32');
  return { images, labels };
}

/** Counts top-1 and top-5 hits and sums the log-loss of one batch of logits [N, C]. */
export function scoreLogits(
  logits: Float32Array,
  labels: Int32Array,
  classes: number,
): { top1: number; top5: number; loss: number } {
  let top1 = 0;
  let top5 = 0;
  let loss = 0;
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const row = i * classes;
    const target = logits[row + labels[i]];
    let max = Number.NEGATIVE_INFINITY;
    let higher = 0;
    for (let c = 0; c < classes; c++) {
      const v = logits[row + c];
      if (v > max) max = v;
      if (v > target) higher++;
    }
    if (higher === 0) top1++;
    if (higher < 5) top5++;
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[row + c] - max);
    loss += Math.log(sum) + max - target;
  }
  return { top1, top5, loss };
}

/** Evaluates `forward` (the caller sets eval mode) over `batches`. */
export function evaluate(forward: (images: Tensor) => Tensor, batches: Iterable<Batch>): EvalResult {
  let top1 = 0;
  let top5 = 0;
  let loss = 0;
  let count = 0;
  noGrad(() => {
    for (const batch of batches) {
      tidy(() => {
        const { images, labels } = batchTensors(batch);
        const logits = forward(images);
        const classes = logits.shape[1];
        const s = scoreLogits(logits.f32, labels.i32, classes);
        top1 += s.top1;
        top5 += s.top5;
        loss += s.loss;
        count += batch.size;
      });
    }
  });
  if (count === 0) throw new Error('evaluate: no images to evaluate');
  return { top1: top1 / count, top5: top5 / count, loss: loss / count, count };
}
