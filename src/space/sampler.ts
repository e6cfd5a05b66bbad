/**
 * Path samplers. `uniformArch`: every supernet layer picks uniformly among its candidates (a
 * stage's first layer never skips). `ArchSampler` adds rejection into a MACs budget
 * `[minMacs, maxMacs]` (Algorithm 1's FLOPs-constrained uniform sampling); an empty budget or one
 * outside the space's exact MACs range is an error stating that range.
 */
import type { Arch } from './arch.ts';
import { type CostTable, costTable } from './cost-table.ts';
import { SpaceError } from './errors.ts';
import type { SearchSpace } from './resolve.ts';

/** Any source of uniform numbers in [0, 1) (e.g. `Mulberry32` from random.ts). */
export interface SeededRandom {
  next(): number;
}

/** A MACs budget; a missing bound is unbounded. */
export interface Budget {
  minMacs?: number;
  maxMacs?: number;
}

export interface SamplerOptions extends Budget {
  /** Rejection attempts before giving up (default 1,000,000). */
  maxTries?: number;
  /** Resolution the MACs are counted at (default the space's). */
  resolution?: number;
}

export const DEFAULT_MAX_TRIES = 1_000_000;

/** Uniform integer in [0, n). */
export function randomIndex(rng: SeededRandom, n: number): number {
  const i = Math.floor(rng.next() * n);
  return i < n ? i : n - 1;
}

/** One uniform path of supernet depth, no budget. */
export function uniformArch(space: SearchSpace, rng: SeededRandom): Arch {
  return space.stages.map((stage) =>
    stage.layerInfo.map((layer) => layer.candidateNames[randomIndex(rng, layer.candidateNames.length)]),
  );
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : n > 0 ? 'inf' : '-inf');

/**
 * Check a budget against the table's exact MACs range; returns the effective [lo, hi].
 * Throws a SpaceError if the budget is empty, not finite, or misses the range.
 */
export function checkBudget(table: CostTable, budget: Budget): { lo: number; hi: number } {
  const { min, max } = table.macsRange();
  const lo = budget.minMacs ?? Number.NEGATIVE_INFINITY;
  const hi = budget.maxMacs ?? Number.POSITIVE_INFINITY;
  const range = `space "${table.space.name}" at ${table.space.resolution} px has paths from ${fmt(min)} to ${fmt(max)} MACs`;
  if (Number.isNaN(lo) || Number.isNaN(hi)) throw new SpaceError(`MACs budget bounds must be numbers; ${range}`);
  if (lo > hi) throw new SpaceError(`MACs budget is empty: min ${fmt(lo)} > max ${fmt(hi)}; ${range}`);
  if (hi < min || lo > max) {
    throw new SpaceError(`MACs budget [${fmt(lo)}, ${fmt(hi)}] is infeasible: ${range}`);
  }
  return { lo, hi };
}

/** Samples uniform paths, rejected until their MACs fall in the budget. Build once, sample often. */
export class ArchSampler {
  readonly space: SearchSpace;
  readonly table: CostTable;
  readonly lo: number;
  readonly hi: number;
  readonly maxTries: number;

  constructor(space: SearchSpace, opts: SamplerOptions = {}) {
    this.space = space;
    this.table = costTable(space, opts.resolution ?? space.resolution);
    ({ lo: this.lo, hi: this.hi } = checkBudget(this.table, opts));
    this.maxTries = opts.maxTries ?? DEFAULT_MAX_TRIES;
    if (!(this.maxTries >= 1)) throw new SpaceError(`maxTries must be at least 1, got ${opts.maxTries}`);
  }

  /** Whether `arch` is within the budget. */
  fits(arch: Arch): boolean {
    const m = this.table.pathMacs(arch);
    return m >= this.lo && m <= this.hi;
  }

  /** A uniform path within the budget. */
  sample(rng: SeededRandom): Arch {
    return this.retry(() => uniformArch(this.space, rng), 'uniform samples');
  }

  /** Call `make` until its result fits the budget; throws after maxTries. */
  retry(make: () => Arch, what: string): Arch {
    for (let t = 0; t < this.maxTries; t++) {
      const arch = make();
      if (this.fits(arch)) return arch;
    }
    const { min, max } = this.table.macsRange();
    throw new SpaceError(
      `no path within [${fmt(this.lo)}, ${fmt(this.hi)}] MACs after ${fmt(this.maxTries)} ${what} ` +
        `(space "${this.space.name}" ranges from ${fmt(min)} to ${fmt(max)} MACs); widen the budget`,
    );
  }
}

/** One uniform path within `opts`' budget (builds a sampler; reuse `ArchSampler` in loops). */
export function sampleArch(space: SearchSpace, rng: SeededRandom, opts: SamplerOptions = {}): Arch {
  return new ArchSampler(space, opts).sample(rng);
}
