// The EMA decay per update. TensorFlow's ExponentialMovingAverage (which EfficientNet-style
// retraining used) caps the decay at (1 + t) / (10 + t) for update t, so early averages are not
// dominated by the random initial weights; without it a 0.999 average still holds 37% of the
// initial weights after 1,000 steps.
import type { Module } from '../nn/index.ts';
import type { WeightEma } from '../optim/index.ts';
import { native } from '../tensor/index.ts';

/** Decay used for update number `updates` (0-based). */
export function emaDecayAt(decay: number, warmup: boolean, updates: number): number {
  return warmup ? Math.min(decay, (1 + updates) / (10 + updates)) : decay;
}

/** `ema.update(model)` with this update's decay (WeightEma's own when they agree). */
export function updateEma(ema: WeightEma, model: Module, decay: number): void {
  if (decay === ema.decay) {
    ema.update(model);
    return;
  }
  for (const [name, p] of model.namedParameters()) {
    const shadow = ema.shadow.get(name);
    if (!shadow) throw new Error(`updateEma: the EMA has no tensor ${name}`);
    native.axpby(shadow.f32, p.f32, 1 - decay, decay);
  }
  for (const [name, b] of model.namedBuffers()) ema.shadow.get(name)?.f32.set(b.f32);
}
