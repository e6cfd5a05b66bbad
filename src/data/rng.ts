// Deterministic pseudo-random numbers for data order and augmentation.
//
// xoshiro128** (Blackman & Vigna): 128 bits of state, fast with 32-bit integer maths in JS, and the
// whole state is four uint32 values, so a run can save it as JSON and resume bit-exactly.
// Math.random() is never used anywhere in the data layer: every random choice flows from a seed.

/** The complete state of an {@link Rng}; plain JSON, safe to store in a checkpoint. */
export interface RngState {
  algorithm: 'xoshiro128**';
  state: [number, number, number, number];
}

const TWO_POW_32 = 4294967296;

/** murmur3's 32-bit finaliser: a bijective mix with full avalanche, used to spread seeds. */
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkSeed(seed: number, what: string): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, got ${seed}`);
  }
}

/**
 * Combines a seed with integer coordinates (epoch, batch index, ...) into a new 32-bit seed.
 * The result depends only on the arguments, which is what lets a batch be reproduced from
 * (seed, epoch, batchIndex) regardless of which worker made it or when.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  checkSeed(seed, 'seed');
  // Both halves of a seed above 2^32 take part, so seeds that differ only in high bits differ.
  let h = mix32(seed >>> 0) ^ mix32(Math.floor(seed / TWO_POW_32) + 0x9e3779b9);
  for (let i = 0; i < parts.length; i++) {
    checkSeed(parts[i], `seed part ${i}`);
    h = mix32(h + 0x9e3779b9 + mix32((parts[i] >>> 0) ^ Math.imul(i + 1, 0x27d4eb2f)));
    h = mix32(h ^ (Math.floor(parts[i] / TWO_POW_32) >>> 0));
  }
  return h >>> 0;
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Seeds the generator; equal seeds give equal streams. */
  constructor(seed: number) {
    checkSeed(seed, 'seed');
    // Expand the seed with a splitmix-style counter through mix32 so that nearby seeds
    // (0, 1, 2, ...) start far apart and the all-zero state (a fixed point) cannot occur.
    let x = deriveSeed(seed);
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix32(x ^ (x >>> 15));
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s3 = 1;
  }

  /** Rebuilds a generator from {@link Rng.getState}'s output. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  getState(): RngState {
    return { algorithm: 'xoshiro128**', state: [this.s0, this.s1, this.s2, this.s3] };
  }

  setState(state: RngState): void {
    if (state?.algorithm !== 'xoshiro128**' || !Array.isArray(state.state) || state.state.length !== 4) {
      throw new TypeError(
        `Rng state must be {algorithm: 'xoshiro128**', state: [4 uint32]}, got ${JSON.stringify(state)}`,
      );
    }
    for (const v of state.state) {
      if (!Number.isInteger(v) || v < 0 || v >= TWO_POW_32) throw new RangeError(`Rng state word ${v} is not a uint32`);
    }
    if (state.state.every((v) => v === 0)) throw new RangeError('Rng state must not be all zeros');
    [this.s0, this.s1, this.s2, this.s3] = state.state;
  }

  /** A uniformly distributed uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** A float uniformly distributed in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** A float uniformly distributed in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** An integer uniformly distributed in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) throw new RangeError(`int(n) needs 0 < n <= 2^32, got ${n}`);
    // Rejection sampling: discard the top sliver of values that would make small results likelier.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let v = this.nextUint32();
    while (v >= limit) v = this.nextUint32();
    return v % n;
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** A standard normal sample (Box-Muller; the second value is dropped so the state stays four words). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]: log(0) cannot happen
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
