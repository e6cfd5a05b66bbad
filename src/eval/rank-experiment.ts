// The rank-correlation experiment of the paper (CREAM.md §5): n distinct architectures sampled
// within a search's FLOPs budget, each scored twice, by the search's supernet (inherited weights,
// BN re-calibrated, validation split: exactly how the search judges its finalists) and by training
// it from scratch with a short fixed schedule; Kendall tau-b and Spearman rho of the two scorings
// say how far the supernet's ranking can be trusted.
import { recalibratedPathAccuracy } from '../cream/path-evaluator.ts';
import type { SearchConfig } from '../cream/search-config.ts';
import { openSearchRun } from '../cream/search-run.ts';
import { scatterPlot } from '../io/plot.ts';
import type { RunFolder } from '../io/run-folder.ts';
import type { RetrainConfig } from '../retrain/retrain-config.ts';
import {
  type Arch,
  type ArchSampler,
  canonicalArch,
  childCost,
  countNetworks,
  formatArchCompact,
  Mulberry32,
  type SeededRandom,
  SpaceError,
} from '../space/index.ts';
import { kendallTau, spearmanRho } from './rank-correlation.ts';
import { type ScratchEvents, scratchAccuracies } from './scratch-accuracy.ts';

export interface RankPair {
  /** The path as sampled (the supernet is scored on exactly this path). */
  arch: Arch;
  flops: number;
  params: number;
  /** Supernet, BN re-calibrated, on the search's validation split. */
  supernetTop1: number;
  /** Trained from scratch, final weights, on the scratch config's validation split. */
  scratchTop1: number;
}

export interface RankResult {
  searchRun: string;
  /** Step of the search checkpoint the supernet weights come from. */
  checkpointStep: number;
  searchFinished: boolean;
  n: number;
  seed: number;
  budget: { minMacs: number; maxMacs: number };
  /** NaN when either scoring is constant (then the correlation is undefined). */
  kendallTau: number;
  spearmanRho: number;
  scratchConfig: RetrainConfig;
  /** Key of the scratch config + space + split in the cache file. */
  scratchConfigKey: string;
  cache: string;
  /** Networks trained by this run, and taken from the cache. */
  trained: number;
  reused: number;
  pairs: RankPair[];
}

export interface RankEvents extends ScratchEvents {
  onLog?(message: string): void;
  /** `done` of `total` architectures scored by the supernet. */
  onSupernet?(done: number, total: number): void;
}

export interface RankExperimentOptions {
  /** The search run folder (config.resolved.yaml + checkpoint.safetensors). */
  searchRun: string;
  n: number;
  /** Seed of the architecture sampler (default 0). */
  seed?: number;
  /** The short schedule; its space and dataset source are taken from the search run. */
  scratchConfig: RetrainConfig;
  /** Scratch-accuracy cache file (see scratch-accuracy.ts); may be shared between runs. */
  cachePath: string;
  /** Kernel threads for both scorings (default: the configs' settings). */
  threads?: number;
  events?: RankEvents;
}

/**
 * `n` architectures that build distinct networks (skip placement aside), drawn by `sampler` within
 * its budget. Gives up, naming how many it found, after a long run of draws brings nothing new.
 */
export function sampleDistinctArchs(sampler: ArchSampler, n: number, rng: SeededRandom): Arch[] {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`n must be an integer of at least 2, got ${n}`);
  const space = sampler.space;
  const budget = `[${sampler.lo.toLocaleString('en-US')}, ${sampler.hi.toLocaleString('en-US')}] MACs`;
  const networks = countNetworks(space);
  if (BigInt(n) > networks) {
    throw new SpaceError(`n = ${n} distinct architectures asked, but space "${space.name}" builds only ${networks}`);
  }
  const seen = new Set<string>();
  const archs: Arch[] = [];
  // Long enough that a budget with n networks left is very unlikely to be given up on.
  const patience = Math.max(10_000, 100 * n);
  let draws = 0;
  for (let sinceNew = 0; archs.length < n; sinceNew++, draws++) {
    if (sinceNew >= patience) {
      throw new SpaceError(
        `only ${archs.length} distinct architectures within ${budget} turned up in ${draws.toLocaleString('en-US')} ` +
          `draws (${patience.toLocaleString('en-US')} in a row brought nothing new); ask for fewer than n = ${n}`,
      );
    }
    const arch = sampler.sample(rng);
    const key = formatArchCompact(canonicalArch(space, arch));
    if (seen.has(key)) continue;
    seen.add(key);
    archs.push(arch);
    sinceNew = -1;
  }
  return archs;
}

/** The scratch config for a search's networks: its space and dataset source come from the search. */
export function scratchConfigFor(scratch: RetrainConfig, search: SearchConfig, threads?: number): RetrainConfig {
  const { dataset, dir, trainRoot, trainList, testRoot, testList } = search.data;
  return {
    ...scratch,
    space: search.space,
    arch: undefined,
    threads: threads ?? scratch.threads,
    data: { ...scratch.data, dataset, dir, trainRoot, trainList, testRoot, testList },
  };
}

export async function runRankExperiment(o: RankExperimentOptions): Promise<RankResult> {
  const seed = o.seed ?? 0;
  const events = o.events ?? {};
  if (!Number.isInteger(o.n) || o.n < 2) throw new RangeError(`n must be an integer of at least 2, got ${o.n}`);
  const run = openSearchRun(o.searchRun, { threads: o.threads });
  const { search } = run;
  let archs: Arch[];
  const supernetTop1: number[] = [];
  try {
    if (!run.finished) {
      events.onLog?.(`the search stopped at step ${run.step} of ${search.totalSteps}: scoring its last checkpoint`);
    }
    archs = sampleDistinctArchs(search.sampler, o.n, new Mulberry32(seed));
    const { calibration, evaluation } = search.selectionBatches();
    events.onSupernet?.(0, archs.length);
    for (const arch of archs) {
      supernetTop1.push(recalibratedPathAccuracy(search.supernet, arch, calibration, evaluation).top1);
      events.onSupernet?.(supernetTop1.length, archs.length);
    }
  } finally {
    search.dispose();
  }
  const scratchConfig = scratchConfigFor(o.scratchConfig, run.config, o.threads);
  const scratch = await scratchAccuracies({ archs, config: scratchConfig, cachePath: o.cachePath, events });
  const pairs: RankPair[] = archs.map((arch, i) => {
    const cost = childCost(search.space, arch);
    return {
      arch,
      flops: cost.macs,
      params: cost.params,
      supernetTop1: supernetTop1[i],
      scratchTop1: scratch.results[i].valTop1,
    };
  });
  const x = pairs.map((p) => p.supernetTop1);
  const y = pairs.map((p) => p.scratchTop1);
  return {
    searchRun: o.searchRun,
    checkpointStep: run.step,
    searchFinished: run.finished,
    n: pairs.length,
    seed,
    budget: { minMacs: search.sampler.lo, maxMacs: search.sampler.hi },
    kendallTau: kendallTau(x, y),
    spearmanRho: spearmanRho(x, y),
    scratchConfig,
    scratchConfigKey: scratch.configKey,
    cache: o.cachePath,
    trained: scratch.trained,
    reused: scratch.reused,
    pairs,
  };
}

/** NaN (an undefined correlation) is written as null, which JSON can hold. */
const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/** rank.json and the scatter plot rank.png / rank.svg. */
export function writeRankReport(folder: RunFolder, r: RankResult): void {
  folder.writeJson('rank.json', {
    ...r,
    kendallTau: finiteOrNull(r.kendallTau),
    spearmanRho: finiteOrNull(r.spearmanRho),
  });
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'undefined');
  folder.writePlot(
    'rank',
    scatterPlot({
      title: `Kendall tau-b ${fmt(r.kendallTau)}, Spearman rho ${fmt(r.spearmanRho)}, n = ${r.n}`,
      xLabel: 'supernet top-1, BN re-calibrated (%)',
      yLabel: 'from-scratch top-1 (%)',
      series: [
        {
          name: 'architectures',
          points: r.pairs.map((p) => ({ x: 100 * p.supernetTop1, y: 100 * p.scratchTop1 })),
        },
      ],
    }),
  );
}
