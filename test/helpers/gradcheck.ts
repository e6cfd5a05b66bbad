// Central finite-difference check of an op's gradients. The op runs in float32, so the projection
// onto a fixed random direction is accumulated in float64 and compared with a relative tolerance.
import assert from 'node:assert/strict';
import { backward, noGrad, type Tensor, tidy } from '../../src/tensor/index.ts';
import { Tensor as T } from '../../src/tensor/tensor.ts';

/** Deterministic pseudo-random numbers for tests (mulberry32). */
export function testRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomTensor(shape: number[], rand: () => number, lo = -1, hi = 1): Tensor {
  const t = T.empty(shape);
  const d = t.f32;
  for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rand();
  return t;
}

export interface GradCheckOptions {
  eps?: number;
  /** Max |analytic - numeric| / max(1, |numeric|) per checked element. */
  tolerance?: number;
  /** Check at most this many elements per input (chosen deterministically). */
  samples?: number;
  seed?: number;
}

/**
 * Checks d(sum(f(inputs) * w))/d(input) for each input that has requiresGrad, where w is a fixed
 * random weighting of the output (so every output element matters).
 */
export function gradCheck(f: (inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradCheckOptions = {}): void {
  const eps = opts.eps ?? 1e-2;
  const tol = opts.tolerance ?? 2e-2;
  const rand = testRandom(opts.seed ?? 7);
  for (const x of inputs) if (x.dtype === 'float32') x.requiresGrad = true;
  const probe = noGrad(() => tidy(() => f(inputs).clone()));
  const weights = Float64Array.from({ length: probe.size }, () => rand() * 2 - 1);
  probe.dispose();

  const objective = (): number =>
    noGrad(() =>
      tidy(() => {
        const y = f(inputs).f32;
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i] * weights[i];
        return s;
      }),
    );

  for (const x of inputs) x.grad = null;
  tidy(() => {
    const y = f(inputs);
    const w = T.from(weights, y.shape);
    backward(y, w);
  });

  inputs.forEach((x, k) => {
    if (!x.requiresGrad) return;
    assert.ok(x.grad, `input ${k} received no gradient`);
    const analytic = x.grad!.f32;
    const data = x.f32;
    const n = Math.min(data.length, opts.samples ?? 64);
    const stride = data.length / n;
    for (let s = 0; s < n; s++) {
      const i = Math.floor(s * stride);
      const orig = data[i];
      data[i] = orig + eps;
      const plus = objective();
      data[i] = orig - eps;
      const minus = objective();
      data[i] = orig;
      const numeric = (plus - minus) / (2 * eps);
      const err = Math.abs(analytic[i] - numeric) / Math.max(1, Math.abs(numeric));
      assert.ok(
        err <= tol,
        `input ${k} element ${i}: analytic ${analytic[i]} vs numeric ${numeric} (rel err ${err.toExponential(2)} > ${tol})`,
      );
    }
  });
}
