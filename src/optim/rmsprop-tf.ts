import type { Tensor } from '../tensor/index.ts';
import { native } from '../tensor/index.ts';
import { type NamedParameters, Optimizer } from './optimizer.ts';

export interface RmspropTfOptions {
  alpha?: number;
  eps?: number;
  momentum?: number;
  weightDecay?: number;
  decays?: (name: string, p: Tensor) => boolean;
}

/**
 * RMSprop in TensorFlow's form (timm's RMSpropTF, used to retrain EfficientNet-style nets): the
 * square average starts at 1, eps sits inside the square root, and lr is applied inside momentum.
 * Defaults are the paper's retraining recipe: alpha 0.9, eps 1e-3, momentum 0.9.
 */
export class RmspropTF extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly momentum: number;
  readonly weightDecay: number;

  constructor(params: NamedParameters, opts: RmspropTfOptions = {}) {
    super(params, opts.decays);
    this.alpha = opts.alpha ?? 0.9;
    this.eps = opts.eps ?? 1e-3;
    this.momentum = opts.momentum ?? 0.9;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  step(lr: number): void {
    for (const [name, p] of this.params) {
      if (!p.grad) continue;
      const wd = this.decays(name, p) ? this.weightDecay : 0;
      const sq = this.stateFor('square_avg', name, p, 1).t;
      const buf = this.stateFor('momentum', name, p, 0).t;
      native.rmspropTfStep(p.f32, p.grad.f32, sq.f32, buf.f32, lr, this.alpha, this.eps, this.momentum, wd);
    }
  }
}
