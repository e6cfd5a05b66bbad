// Initialisers of shared/CREAM.md §1 (the official Cream / timm EfficientNet rules), driven by a
// seeded generator so a run is reproducible.
import { Tensor } from '../tensor/index.ts';

/** A source of uniform numbers in [0, 1). */
export interface UniformSource {
  next(): number;
}

/** Small seeded generator (mulberry32) for weight initialisation. */
export class InitRandom implements UniformSource {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal by Box-Muller. */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** Conv weights: N(0, sqrt(2 / fan_out)), fan_out = k*k*out/groups. */
export function convInit(shape: readonly number[], fanOut: number, rng: InitRandom): Tensor {
  const t = Tensor.empty(shape);
  const std = Math.sqrt(2 / fanOut);
  const d = t.f32;
  for (let i = 0; i < d.length; i++) d[i] = std * rng.normal();
  return t;
}

/** Linear weights: U(-1/sqrt(out), 1/sqrt(out)) as in the official code. */
export function linearInit(shape: readonly number[], outFeatures: number, rng: InitRandom): Tensor {
  const t = Tensor.empty(shape);
  const bound = 1 / Math.sqrt(outFeatures);
  const d = t.f32;
  for (let i = 0; i < d.length; i++) d[i] = (rng.next() * 2 - 1) * bound;
  return t;
}
