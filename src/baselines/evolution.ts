/**
 * Evolutionary architecture search over a trained supernet, as in Single Path One-Shot (SPOS,
 * Guo et al. 2020), the paper's main baseline (shared/CREAM.md §5): a population of paths within
 * the FLOPs budget is scored; each iteration keeps the top-k paths seen so far, breeds `mutations`
 * mutants (each layer re-drawn with probability p) and `crossovers` children of two top-k parents,
 * and tops the population up with random paths. Paths already scored are never bred again, so
 * every iteration scores `population` new paths.
 *
 * The search is deterministic given the seeded generator and the scores, which is what makes a
 * killed run resumable: replaying it against the cached scores (see candidate-scorer.ts) walks the
 * same trajectory without re-evaluating anything.
 */
import {
  type Arch,
  type ArchSampler,
  crossoverArchs,
  mutateArch,
  randomIndex,
  type SeededRandom,
} from '../space/index.ts';
import { archKey, type ScoredArch, TopK } from './top-k.ts';

export interface EvolutionOptions {
  population: number;
  iterations: number;
  topK: number;
  mutations: number;
  crossovers: number;
  /** Per-layer mutation probability. */
  mutationProb: number;
}

/** SPOS's published settings. */
export const SPOS_EVOLUTION: EvolutionOptions = {
  population: 50,
  iterations: 20,
  topK: 10,
  mutations: 25,
  crossovers: 25,
  mutationProb: 0.1,
};

export interface IterationSummary {
  iteration: number;
  /** Paths scored so far. */
  evaluated: number;
  best: ScoredArch;
  /** Mean score of the current top-k. */
  topKMean: number;
}

export interface PathSearchResult {
  /** Best paths seen, best first (at most top-k). */
  top: ScoredArch[];
  /** Every path scored, in the order scored. */
  scored: ScoredArch[];
  iterations: IterationSummary[];
}

/** Attempts at drawing a path not seen before, before concluding the budget holds no more. */
const FRESH_TRIES = 200;

/** Draws with `make` until it gives a path not in `seen`; null if it keeps repeating. */
export function freshPath(make: () => Arch, seen: Set<string>): Arch | null {
  for (let t = 0; t < FRESH_TRIES; t++) {
    const arch = make();
    if (!seen.has(archKey(arch))) return arch;
  }
  return null;
}

export function checkEvolutionOptions(o: EvolutionOptions): void {
  const ints: (keyof EvolutionOptions)[] = ['population', 'iterations', 'topK'];
  for (const k of ints) {
    if (!Number.isInteger(o[k]) || o[k] < 1)
      throw new RangeError(`evolution.${k} must be a positive integer, got ${o[k]}`);
  }
  for (const k of ['mutations', 'crossovers'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0)
      throw new RangeError(`evolution.${k} must be an integer >= 0, got ${o[k]}`);
  }
  if (o.mutations + o.crossovers > o.population) {
    throw new RangeError(
      `evolution.mutations + evolution.crossovers (${o.mutations + o.crossovers}) exceed evolution.population (${o.population})`,
    );
  }
  if (!(o.mutationProb >= 0 && o.mutationProb <= 1)) {
    throw new RangeError(`evolution.mutationProb must be in [0, 1], got ${o.mutationProb}`);
  }
}

/**
 * Runs the evolution; `score` returns a path's accuracy (higher is better). `onIteration` sees each
 * iteration's summary. Ties between equal scores favour fewer FLOPs, then the earlier path.
 */
export function evolutionSearch(
  sampler: ArchSampler,
  rng: SeededRandom,
  score: (arch: Arch) => number,
  options: EvolutionOptions,
  onIteration?: (s: IterationSummary) => void,
): PathSearchResult {
  checkEvolutionOptions(options);
  const seen = new Set<string>();
  const scored: ScoredArch[] = [];
  const top = new TopK(options.topK);
  const iterations: IterationSummary[] = [];
  const take = (arch: Arch | null, into: Arch[]): void => {
    if (arch === null) return;
    seen.add(archKey(arch));
    into.push(arch);
  };
  let population: Arch[] = [];
  for (let i = 0; i < options.population; i++)
    take(
      freshPath(() => sampler.sample(rng), seen),
      population,
    );
  for (let it = 0; it < options.iterations && population.length > 0; it++) {
    for (const arch of population) {
      const s: ScoredArch = { arch, score: score(arch), flops: sampler.table.pathMacs(arch) };
      scored.push(s);
      top.offer(s);
    }
    const members = top.entries();
    const summary: IterationSummary = {
      iteration: it,
      evaluated: scored.length,
      best: members[0],
      topKMean: members.reduce((a, m) => a + m.score, 0) / members.length,
    };
    iterations.push(summary);
    onIteration?.(summary);
    if (it === options.iterations - 1) break;
    const parent = () => members[randomIndex(rng, members.length)].arch;
    const next: Arch[] = [];
    for (let i = 0; i < options.mutations; i++) {
      take(
        freshPath(() => mutateArch(sampler, parent(), rng, options.mutationProb), seen),
        next,
      );
    }
    for (let i = 0; i < options.crossovers; i++) {
      take(
        freshPath(() => crossoverArchs(sampler, parent(), parent(), rng), seen),
        next,
      );
    }
    while (next.length < options.population) {
      const before = next.length;
      take(
        freshPath(() => sampler.sample(rng), seen),
        next,
      );
      if (next.length === before) break; // the budget holds no unseen path the sampler can find
    }
    population = next;
  }
  return { top: top.entries(), scored, iterations };
}
