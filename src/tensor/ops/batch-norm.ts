import { native } from '../native.ts';
import { needsGrad, record } from '../tape.ts';
import { shapeString, Tensor } from '../tensor.ts';
import { ACTIVATION_CODES } from './activation.ts';
import { float32, shapeIs } from './check.ts';

/** Activations batchNorm can fuse after its affine transform. */
export type BatchNormActivation = 'none' | 'relu' | 'relu6' | 'swish';

export interface BatchNormOptions {
  /** Normalise with batch statistics and update the running ones (else use the running ones). */
  training: boolean;
  /** Weight of the new batch statistic in the running average (PyTorch's convention). */
  momentum?: number;
  eps?: number;
  act?: BatchNormActivation;
}

const EMPTY = new Float32Array(0);

/**
 * Checks batch-norm's per-channel tensors ([C] float32, for an input of shape `xShape`), momentum,
 * eps and activation; messages name `op` (shared with the fused pointwiseBatchNorm).
 */
export function checkBatchNormArgs(
  op: string,
  xShape: readonly number[],
  C: number,
  perChannel: { gamma: Tensor; beta: Tensor; runningMean: Tensor; runningVar: Tensor },
  momentum: number,
  eps: number,
  act: BatchNormActivation,
): void {
  for (const [name, t] of Object.entries(perChannel)) {
    float32(op, t, name);
    shapeIs(op, t, [C], `${name} (for x ${shapeString(xShape)})`);
  }
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`${op}: momentum must be in [0, 1], got ${momentum}`);
  if (!(eps > 0)) throw new Error(`${op}: eps must be positive, got ${eps}`);
  if (!Object.hasOwn(ACTIVATION_CODES, act) || ACTIVATION_CODES[act] > ACTIVATION_CODES.swish) {
    throw new Error(`${op}: act must be 'none', 'relu', 'relu6' or 'swish', got '${act}'`);
  }
}

/**
 * act(batch_norm(x) * gamma + beta) over the channels (last axis) of x [N, H, W, C] or [N, C], with
 * PyTorch's semantics: training normalises with the batch mean and biased variance and updates
 * runningMean / runningVar in place (momentum, unbiased variance); inference uses the running
 * statistics. Gradients flow to x, gamma and beta; the running statistics are buffers.
 */
export function batchNorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNormOptions,
): Tensor {
  const op = 'batchNorm';
  const { training, momentum = 0.1, eps = 1e-5, act = 'none' } = opts;
  if (x.rank !== 2 && x.rank !== 4) {
    throw new Error(`${op}: x must be [N, H, W, C] or [N, C], got shape ${shapeString(x.shape)}`);
  }
  float32(op, x, 'x');
  const C = x.shape[x.rank - 1];
  checkBatchNormArgs(op, x.shape, C, { gamma, beta, runningMean, runningVar }, momentum, eps, act);
  if (training && x.size / C < 2) {
    throw new Error(`${op}: training needs more than one value per channel, got x ${shapeString(x.shape)}`);
  }
  const code = ACTIVATION_CODES[act];
  const grad = needsGrad([x, gamma, beta]);
  // The statistics used (batch or running), saved for the backward pass.
  const mean = grad ? Tensor.empty([C]) : null;
  const invstd = grad ? Tensor.empty([C]) : null;
  const out = Tensor.empty(x.shape);
  native.bnForward(
    x.f32,
    C,
    gamma.f32,
    beta.f32,
    runningMean.f32,
    runningVar.f32,
    training,
    momentum,
    eps,
    code,
    out.f32,
    mean ? mean.f32 : new Float32Array(C),
    invstd ? invstd.f32 : new Float32Array(C),
  );
  if (!grad || !mean || !invstd) return out;
  // Snapshot the affine parameters: an optimiser step before backward must not change the gradient.
  const gammaAt = gamma.f32.slice();
  const betaAt = beta.f32.slice();
  return record(op, out, [x, gamma, beta], (g) => {
    const gx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    const gGamma = gamma.requiresGrad ? Tensor.empty([C]) : null;
    const gBeta = beta.requiresGrad ? Tensor.empty([C]) : null;
    native.bnBackward(
      x.f32,
      g.f32,
      C,
      gammaAt,
      betaAt,
      mean.f32,
      invstd.f32,
      training,
      code,
      gx ? gx.f32 : EMPTY,
      gGamma ? gGamma.f32 : EMPTY,
      gBeta ? gBeta.f32 : EMPTY,
    );
    return [gx, gGamma, gBeta];
  });
}
