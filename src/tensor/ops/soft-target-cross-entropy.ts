import { native } from '../native.ts';
import { needsGrad } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { float32, rank, sameShape } from './check.ts';
import { lossOutput } from './cross-entropy.ts';

/**
 * Distillation loss: mean_n sum_c -targetProbs[n, c] * log_softmax(logits)[n, c], for logits and
 * targetProbs [N, C]. The targets (a teacher's probabilities) receive no gradient.
 */
export function softTargetCrossEntropy(logits: Tensor, targetProbs: Tensor): Tensor {
  const op = 'softTargetCrossEntropy';
  rank(op, logits, 2, 'logits');
  float32(op, logits, 'logits');
  float32(op, targetProbs, 'targetProbs');
  sameShape(op, logits, targetProbs, ['logits', 'targetProbs']);
  if (logits.size === 0) throw new Error(`${op}: logits must not be empty, got shape [${logits.shape.join(', ')}]`);
  const [N, C] = logits.shape;
  const grad = needsGrad([logits]) ? Tensor.empty(logits.shape) : null;
  const loss = native.softTargetCrossEntropy(
    logits.f32,
    targetProbs.f32,
    N,
    C,
    grad ? grad.f32 : new Float32Array(0),
  ) as number;
  return lossOutput(op, loss, logits, grad);
}
