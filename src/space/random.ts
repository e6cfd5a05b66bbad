/**
 * A small seeded PRNG (mulberry32: 32-bit state, period 2^32) whose state is one JSON number, so a
 * search can checkpoint and resume its sampling exactly. Implements the sampler's `SeededRandom`.
 */
export interface Mulberry32State {
  kind: 'mulberry32';
  state: number;
}

export class Mulberry32 {
  private s: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    // Fold 53-bit seeds into 32 bits so that nearby large seeds still differ.
    this.s = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  getState(): Mulberry32State {
    return { kind: 'mulberry32', state: this.s };
  }

  static fromState(st: Mulberry32State): Mulberry32 {
    if (st?.kind !== 'mulberry32' || !Number.isInteger(st.state) || st.state < 0 || st.state >= 2 ** 32) {
      throw new RangeError(`not a mulberry32 state: ${JSON.stringify(st)}`);
    }
    const r = new Mulberry32(0);
    r.s = st.state;
    return r;
  }
}
