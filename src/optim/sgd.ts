import type { Tensor } from '../tensor/index.ts';
import { native } from '../tensor/index.ts';
import { type NamedParameters, Optimizer } from './optimizer.ts';

export interface SgdOptions {
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /** Which parameters get weight decay; default: all but 1-D ones. */
  decays?: (name: string, p: Tensor) => boolean;
}

/** SGD with momentum / Nesterov and L2 weight decay, PyTorch semantics (dampening 0). */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: NamedParameters, opts: SgdOptions = {}) {
    super(params, opts.decays);
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    if (this.nesterov && this.momentum <= 0) throw new Error('SGD: nesterov needs momentum > 0');
  }

  step(lr: number): void {
    for (const [name, p] of this.params) {
      if (!p.grad) continue;
      const wd = this.decays(name, p) ? this.weightDecay : 0;
      const { t: buf, fresh } = this.stateFor('momentum', name, p, 0);
      native.sgdStep(p.f32, p.grad.f32, buf.f32, lr, this.momentum, wd, this.nesterov, fresh);
    }
  }
}
