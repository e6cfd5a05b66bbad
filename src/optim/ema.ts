import type { Module } from '../nn/index.ts';
import { keep, native, type Tensor } from '../tensor/index.ts';

/**
 * Exponential moving average of a model's parameters (buffers are copied), evaluated instead of
 * the raw weights after retraining (timm ModelEmaV2 semantics: ema = decay ema + (1 - decay) p).
 */
export class WeightEma {
  readonly shadow = new Map<string, Tensor>();

  constructor(
    model: Module,
    readonly decay = 0.9999,
  ) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`WeightEma: decay must be in [0, 1), got ${decay}`);
    for (const [name, t] of model.stateDict()) this.shadow.set(name, keep(t.clone()));
  }

  update(model: Module): void {
    for (const [name, p] of model.namedParameters()) {
      native.axpby(this.shadow.get(name)!.f32, p.f32, 1 - this.decay, this.decay);
    }
    for (const [name, b] of model.namedBuffers()) this.shadow.get(name)!.f32.set(b.f32);
  }

  /** Copies the averaged weights into `model` (an identically built network). */
  copyTo(model: Module): void {
    model.loadStateDict(this.shadow);
  }

  dispose(): void {
    for (const t of this.shadow.values()) t.dispose();
    this.shadow.clear();
  }
}
