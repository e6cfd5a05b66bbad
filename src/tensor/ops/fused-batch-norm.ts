import { needsGrad, record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { ACTIVATION_CODES } from './activation.ts';
import type { BatchNormActivation } from './batch-norm.ts';
import { EMPTY } from './gemm-grads.ts';

export interface BatchNormParams {
  gamma: Tensor;
  beta: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
}

/**
 * The batch-norm half of the fused conv + training batch-norm ops (pointwiseBatchNorm,
 * depthwiseBatchNorm, sePointwiseBatchNorm): what their kernels write forward and read backward,
 * in the order the kernels take them.
 */
export class FusedBatchNorm {
  /** The conv's output, batch-norm's input, kept for the backward pass (as the unfused ops keep it). */
  readonly z: Tensor;
  readonly out: Tensor;
  readonly mean: Tensor;
  readonly invstd: Tensor;
  readonly code: number;
  private gammaAt: Float32Array | null = null;
  private betaAt: Float32Array | null = null;

  constructor(
    readonly bn: BatchNormParams,
    outShape: readonly number[],
    readonly opts: { momentum: number; eps: number; act: BatchNormActivation },
  ) {
    const C = outShape[outShape.length - 1];
    this.z = Tensor.empty(outShape);
    this.out = Tensor.empty(outShape);
    this.mean = Tensor.empty([C]);
    this.invstd = Tensor.empty([C]);
    this.code = ACTIVATION_CODES[opts.act];
  }

  /**
   * The forward kernels' batch-norm arguments: gamma, beta, running stats, momentum, eps, act, z, y,
   * saved stats. Without `writeOut`, y is the empty array: the kernel leaves it to the next layer's
   * (see appliedArgs).
   */
  forwardArgs(
    writeOut = true,
  ): [Float32Array, Float32Array, Float32Array, Float32Array, number, number, number, ...Float32Array[]] {
    const { gamma, beta, runningMean, runningVar } = this.bn;
    const { momentum, eps } = this.opts;
    return [
      gamma.f32,
      beta.f32,
      runningMean.f32,
      runningVar.f32,
      momentum,
      eps,
      this.code,
      this.z.f32,
      writeOut ? this.out.f32 : EMPTY,
      this.mean.f32,
      this.invstd.f32,
    ];
  }

  /**
   * What a consumer needs to make the output from z after the forward kernel ran without writing it:
   * z, gamma, beta, the batch statistics and the activation code.
   */
  appliedArgs(): [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, number] {
    return [this.z.f32, this.bn.gamma.f32, this.bn.beta.f32, this.mean.f32, this.invstd.f32, this.code];
  }

  /**
   * The op's result after its forward kernel ran: `out`, with `backward` recorded (gamma and beta
   * snapshotted) when an input needs a gradient, else with what only backward reads freed.
   */
  result(op: string, inputs: readonly Tensor[], backward: (g: Tensor) => (Tensor | null)[]): Tensor {
    if (!needsGrad(inputs)) {
      this.disposeSaved();
      return this.out;
    }
    this.snapshot();
    return record(op, this.out, inputs, backward);
  }

  /** After the forward pass with no gradient to record: frees what only backward reads. */
  disposeSaved(): void {
    for (const t of [this.z, this.mean, this.invstd]) t.dispose();
  }

  /**
   * Snapshots gamma and beta for the backward pass, as batchNorm does: an optimiser step before
   * backward must not change the gradient. Call when recording.
   */
  snapshot(): void {
    this.gammaAt = this.bn.gamma.f32.slice();
    this.betaAt = this.bn.beta.f32.slice();
  }

  /** The backward kernels' batch-norm arguments: the snapshots of gamma and beta, the saved statistics. */
  savedArgs(): [Float32Array, Float32Array, Float32Array, Float32Array] {
    if (!this.gammaAt || !this.betaAt) throw new Error('FusedBatchNorm: backward without snapshot()');
    return [this.gammaAt, this.betaAt, this.mean.f32, this.invstd.f32];
  }

  /**
   * Gradient buffers for gamma and beta where they require one, and for swish the scratch tensor in
   * which the kernels keep its derivative between their two passes (cheaper than computing it twice).
   */
  gradBuffers(): { gGamma: Tensor | null; gBeta: Tensor | null; scratch: Tensor | null } {
    return { ...this.affineGradBuffers(), scratch: this.opts.act === 'swish' ? Tensor.empty(this.z.shape) : null };
  }

  /** Gradient buffers for gamma and beta where they require one. */
  affineGradBuffers(): { gGamma: Tensor | null; gBeta: Tensor | null } {
    const C = this.mean.size;
    return {
      gGamma: this.bn.gamma.requiresGrad ? Tensor.empty([C]) : null,
      gBeta: this.bn.beta.requiresGrad ? Tensor.empty([C]) : null,
    };
  }

  /** Frees everything, the output included (an op that fails after allocating). */
  disposeAll(): void {
    this.disposeSaved();
    this.out.dispose();
  }
}

/** A tensor's data, or the empty array that tells a kernel "not wanted". */
export function dataOrEmpty(t: Tensor | null): Float32Array {
  return t ? t.f32 : EMPTY;
}
