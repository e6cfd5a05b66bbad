/**
 * Mutation and crossover for evolutionary search (SPOS baseline: population 50, p = 0.1 per gene).
 * Both work on supernet-depth paths (shorter stages are padded with skip; deeper child networks
 * are rejected), keep every layer within its candidates (a first layer never becomes skip), and
 * retry until the result fits the sampler's budget.
 */
import { type Arch, padArch, validateArch } from './arch.ts';
import { SpaceError } from './errors.ts';
import { type ArchSampler, randomIndex, type SeededRandom } from './sampler.ts';

function asPath(sampler: ArchSampler, arch: Arch, what: string): Arch {
  try {
    validateArch(sampler.space, arch);
  } catch (e) {
    throw new SpaceError(`${what}: ${(e as Error).message}`);
  }
  return padArch(sampler.space, arch);
}

/** Each layer is re-drawn uniformly from its candidates with probability `prob`; retried until within budget. */
export function mutateArch(sampler: ArchSampler, arch: Arch, rng: SeededRandom, prob = 0.1): Arch {
  if (!(prob >= 0 && prob <= 1)) throw new SpaceError(`mutation probability must be in [0, 1], got ${prob}`);
  const parent = asPath(sampler, arch, 'mutate');
  return sampler.retry(
    () =>
      parent.map((ops, s) =>
        ops.map((op, l) => {
          if (rng.next() >= prob) return op;
          const cands = sampler.space.stages[s].layerInfo[l].candidateNames;
          return cands[randomIndex(rng, cands.length)];
        }),
      ),
    'mutations',
  );
}

/** Each layer taken from `a` or `b` with equal probability; retried until within budget. */
export function crossoverArchs(sampler: ArchSampler, a: Arch, b: Arch, rng: SeededRandom): Arch {
  const pa = asPath(sampler, a, 'crossover, first parent');
  const pb = asPath(sampler, b, 'crossover, second parent');
  return sampler.retry(() => pa.map((ops, s) => ops.map((op, l) => (rng.next() < 0.5 ? op : pb[s][l]))), 'crossovers');
}
