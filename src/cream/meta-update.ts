// Phase 3 of Algorithm 1 (Eq. 6), computed exactly from first-order pieces (shared/CREAM.md §3):
// with w' = w - eta (g_CE + rho g_KD) and R = CE(validation batch; w'),
//   dR/dtheta = dR/drho * drho/dtheta,   dR/drho = -eta <grad_w' R, g_KD>.
// This file computes dR/drho; the caller back-propagates it through the meta network.
import { backward, native, noGrad, type Tensor, tidy } from '../tensor/index.ts';

export interface LookaheadArgs {
  /** The path's parameters; their `.grad` holds g_CE + rho g_KD on entry and on return. */
  params: [string, Tensor][];
  /** g_KD per parameter name (parameters absent here have a zero KD gradient). */
  kdGrads: Map<string, Tensor>;
  /** The student's learning rate eta of this step. */
  lr: number;
  /** Tensors the lookahead forward changes as a side effect (BN running stats), restored after. */
  buffers: Tensor[];
  /** Forward of the validation batch at the current weights, returning the scalar loss R (recorded). */
  validationLoss: () => Tensor;
}

/** Returns dR/drho. Weights, buffers and gradients are as they were on entry. */
export function lookaheadRhoGradient(a: LookaheadArgs): number {
  const saved = a.params.map(([, p]) => p.f32.slice());
  const savedBuffers = a.buffers.map((b) => b.f32.slice());
  const totalGrads = a.params.map(([, p]) => p.grad);
  let dot = 0;
  try {
    // w' = w - eta * g, then the validation gradient at w'.
    noGrad(() => {
      for (const [, p] of a.params) if (p.grad) native.axpy(p.f32, p.grad.f32, -a.lr);
    });
    for (const [, p] of a.params) p.grad = null;
    tidy(() => backward(a.validationLoss()));
    for (const [name, p] of a.params) {
      const kd = a.kdGrads.get(name);
      if (p.grad && kd) dot += native.dot(p.grad.f32, kd.f32) as number;
    }
  } finally {
    a.params.forEach(([, p], i) => {
      p.grad?.dispose();
      p.grad = totalGrads[i];
      p.f32.set(saved[i]);
    });
    a.buffers.forEach((b, i) => {
      b.f32.set(savedBuffers[i]);
    });
  }
  return -a.lr * dot;
}
