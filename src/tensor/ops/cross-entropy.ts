import { native } from '../native.ts';
import { needsGrad, record } from '../tape.ts';
import { shapeString, Tensor as T, type Tensor } from '../tensor.ts';
import { float32, rank } from './check.ts';

export interface CrossEntropyOptions {
  /** PyTorch's label smoothing: the target is (1 - ls) onehot + ls / C. Default 0. */
  labelSmoothing?: number;
}

const EMPTY = new Float32Array(0);

/** Checks logits [N, C] and labels int32 [N] with values in [0, C). */
export function checkLabels(op: string, logits: Tensor, labels: Tensor): void {
  rank(op, logits, 2, 'logits');
  float32(op, logits, 'logits');
  if (labels.dtype !== 'int32') throw new Error(`${op}: labels must be int32, got ${labels.dtype}`);
  if (labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(
      `${op}: labels must be [N] = [${logits.shape[0]}] for logits ${shapeString(logits.shape)}, got ${shapeString(labels.shape)}`,
    );
  }
  if (logits.size === 0) throw new Error(`${op}: logits must not be empty, got shape ${shapeString(logits.shape)}`);
  const C = logits.shape[1];
  labels.i32.forEach((label, row) => {
    if (!(label >= 0 && label < C)) throw new Error(`${op}: label ${label} at row ${row} is outside [0, ${C})`);
  });
}

/**
 * Mean over the batch of -sum_c target_c log_softmax(logits)_c, with target the one-hot label
 * (label-smoothed when asked). logits [N, C], labels int32 [N] in [0, C). Returns a scalar; the
 * fused kernel computes the gradient (softmax - target) / N in the forward pass when needed.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkLabels(op, logits, labels);
  const ls = opts.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls <= 1)) throw new Error(`${op}: labelSmoothing must be in [0, 1], got ${ls}`);
  const [N, C] = logits.shape;
  const grad = needsGrad([logits]) ? T.empty(logits.shape) : null;
  const loss = native.crossEntropy(logits.f32, labels.i32, N, C, ls, grad ? grad.f32 : EMPTY) as number;
  return lossOutput(op, loss, logits, grad);
}

/** Wraps a scalar loss whose gradient of the mean was precomputed; backward scales it by g. */
export function lossOutput(op: string, loss: number, logits: Tensor, grad: Tensor | null): Tensor {
  const out = T.scalar(loss);
  if (!grad) return out;
  return record(op, out, [logits], (g) => {
    const k = g.item();
    if (k === 1) return [grad.share()];
    const gx = T.empty(logits.shape);
    native.scale(grad.f32, k, gx.f32);
    return [gx];
  });
}
