import { batchNorm, Tensor as T, type Tensor } from '../tensor/index.ts';
import { type Activation, activate } from './activation.ts';
import { Module } from './module.ts';

/** BatchNorm2d with PyTorch conventions (momentum 0.1, eps 1e-5, unbiased running variance). */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;

  constructor(
    readonly channels: number,
    public momentum = 0.1,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.registerParameter('weight', T.full([channels], 1));
    this.bias = this.registerParameter('bias', T.zeros([channels]));
    this.runningMean = this.registerBuffer('running_mean', T.zeros([channels]));
    this.runningVar = this.registerBuffer('running_var', T.full([channels], 1));
  }

  /** Normalises x (NHWC or [N, C]) and applies `act`, fused. */
  forward(x: Tensor, act: Activation = 'none'): Tensor {
    const fused = act === 'hswish' ? 'none' : act;
    const y = batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
      act: fused,
    });
    return act === 'hswish' ? activate(y, act) : y;
  }

  /** Resets running statistics (before BN re-calibration of a sampled path). */
  resetRunningStats(): void {
    this.runningMean.f32.fill(0);
    this.runningVar.f32.fill(1);
  }
}
