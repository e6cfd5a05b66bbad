/**
 * `cream rank`: how well a search's supernet ranks architectures. Samples n distinct architectures
 * within the search's budget, scores each by the supernet and by training it from scratch with a
 * short fixed schedule (cached, resumable), and writes Kendall tau-b, Spearman rho, the pairs and
 * a scatter plot.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { type RankResult, runRankExperiment, writeRankReport } from '../eval/rank-experiment.ts';
import { RunFolder } from '../io/run-folder.ts';
import {
  loadRetrainConfigFile,
  loadRetrainPreset,
  RETRAIN_PRESETS,
  type RetrainConfig,
  RetrainConfigError,
  withRetrainOverrides,
} from '../retrain/retrain-config.ts';
import { formatArchCompact } from '../space/index.ts';
import { UsageError } from './errors.ts';
import { intOption } from './options.ts';
import { createProgress, type LogMode, progressMode, withProgressOptions } from './progress.ts';

export const DEFAULT_SCRATCH_PRESET = 'rank-scratch';
export const CACHE_FILE = 'scratch-accuracy.json';

export interface RankOptions {
  searchRun: string;
  n: string;
  seed: string;
  scratchConfig?: string;
  scratchPreset?: string;
  scratchEpochs?: string;
  cache?: string;
  out?: string;
  threads?: string;
  log: LogMode;
  quiet?: boolean;
}

/** The scratch schedule: a preset (default rank-scratch) or a file, then --scratch-epochs. */
export function resolveScratchConfig(o: Pick<RankOptions, 'scratchConfig' | 'scratchPreset' | 'scratchEpochs'>) {
  if (o.scratchConfig && o.scratchPreset) throw new UsageError('give either --scratch-config or --scratch-preset');
  let base: RetrainConfig;
  try {
    base = o.scratchConfig
      ? loadRetrainConfigFile(o.scratchConfig)
      : loadRetrainPreset(o.scratchPreset ?? DEFAULT_SCRATCH_PRESET);
    return withRetrainOverrides(
      base,
      { 'train.epochs': intOption(o.scratchEpochs, '--scratch-epochs') },
      'command-line options',
    );
  } catch (e) {
    if (e instanceof RetrainConfigError) throw new UsageError(e.message);
    throw e;
  }
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'undefined (one scoring is constant)');
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

export function summarizeRank(r: RankResult, outDir: string): string {
  return [
    `Kendall tau-b: ${fmt(r.kendallTau)}  Spearman rho: ${fmt(r.spearmanRho)}  n: ${r.n}`,
    `supernet top-1 ${pct(Math.min(...r.pairs.map((p) => p.supernetTop1)))}-${pct(Math.max(...r.pairs.map((p) => p.supernetTop1)))}, ` +
      `from scratch ${pct(Math.min(...r.pairs.map((p) => p.scratchTop1)))}-${pct(Math.max(...r.pairs.map((p) => p.scratchTop1)))}`,
    `networks trained: ${r.trained}, from the cache: ${r.reused} (${r.cache})`,
    `written: ${join(outDir, 'rank.json')}, rank.png, rank.svg`,
  ].join('\n');
}

export async function runRank(o: RankOptions): Promise<RankResult> {
  const mode = progressMode(o);
  const n = intOption(o.n, '--n')!;
  if (n < 2) throw new UsageError(`--n: a rank correlation needs at least 2 architectures, got ${n}`);
  const seed = intOption(o.seed, '--seed')!;
  const threads = intOption(o.threads, '--threads');
  if (threads === 0) throw new UsageError('--threads: expected at least 1');
  const scratchConfig = resolveScratchConfig(o);
  const outDir = o.out ?? join(o.searchRun, 'rank');
  const cachePath = o.cache ?? join(outDir, CACHE_FILE);
  const progress = createProgress(mode);
  // The output folder is created only once the search run has opened and the archs are sampled.
  let out: RunFolder | null = null;
  const result = await runRankExperiment({
    searchRun: o.searchRun,
    n,
    seed,
    scratchConfig,
    cachePath,
    threads,
    events: {
      onLog: (m) => progress.log(m),
      onSupernet: (done, total) => {
        if (done === 0) progress.start('supernet', total);
        else progress.update(done, {});
        if (done === total) progress.stop();
      },
      onNetworkStart: (e) => {
        out ??= new RunFolder(outDir);
        const label = `scratch ${e.index + 1}/${e.total}`;
        if (e.cached) {
          progress.log(`${label}: ${formatArchCompact(e.arch)} from the cache`);
          return;
        }
        if (e.resumedAtStep > 0) progress.log(`${label}: resuming at step ${e.resumedAtStep} of ${e.totalSteps}`);
        progress.start(label, e.totalSteps, e.resumedAtStep);
      },
      onStep: (step) => progress.update(step, {}),
      onNetworkDone: (e) => {
        if (!e.cached) progress.stop();
        if (mode === 'json') console.log(JSON.stringify({ event: 'network', index: e.index, ...e.result }));
      },
    },
  });
  out ??= new RunFolder(outDir);
  out.writeYaml('scratch-config.resolved.yaml', result.scratchConfig);
  writeRankReport(out, result);
  if (mode === 'json') console.log(JSON.stringify({ event: 'result', ...result }));
  else console.log(summarizeRank(result, outDir));
  return result;
}

export function registerRankCommand(program: Command): void {
  withProgressOptions(
    program
      .command('rank')
      .description(
        'rank correlation of a search: supernet accuracy vs accuracy trained from scratch (Kendall tau-b, Spearman)',
      )
      .requiredOption('--search-run <dir>', 'search run folder (config.resolved.yaml + checkpoint.safetensors)')
      .option('--n <count>', 'architectures to sample within the search budget', '30')
      .option('--seed <k>', 'seed of the architecture sampler', '0')
      .option('--scratch-config <file>', 'retrain config of the from-scratch schedule (YAML or JSON)')
      .option('--scratch-preset <name>', `retrain preset of that schedule: ${RETRAIN_PRESETS.join(' | ')}`)
      .option('--scratch-epochs <e>', 'epochs of the from-scratch schedule (overrides the preset or file)')
      .option('--cache <file>', `scratch-accuracy cache, may be shared between runs (default <out>/${CACHE_FILE})`)
      .option('--out <dir>', 'output folder (default <search-run>/rank)')
      .option('--threads <n>', 'kernel threads (default: all cores)'),
  ).action(async (o: RankOptions) => {
    await runRank(o);
  });
}
