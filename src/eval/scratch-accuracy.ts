// Ground truth for rank correlation: the validation top-1 of architectures trained from scratch
// with one fixed short schedule (the real `Retrainer`). Training dominates the cost of a rank
// experiment, so every result goes into a JSON cache file, written atomically after each network,
// keyed by the architecture and a hash of everything that decides the result (the resolved
// scratch config, the space's content, the data split). That makes a killed run resume where it
// stopped, and lets several search runs of one space (the ablation) share one ground-truth file.
// A network killed mid-training resumes from its own checkpoint in a work folder beside the cache.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeSplit, type SplitDescription } from '../data/index.ts';
import { writeFileAtomicSync } from '../io/atomic-write.ts';
import { RunFolder } from '../io/run-folder.ts';
import { CHECKPOINT_FILE } from '../retrain/model-file.ts';
import { type RetrainConfig, RetrainConfigError } from '../retrain/retrain-config.ts';
import { loadRetrainData } from '../retrain/retrain-data.ts';
import { Retrainer, type RetrainMetrics } from '../retrain/retrain-trainer.ts';
import { type Arch, canonicalArch, childCost, formatArchCompact, loadSpace } from '../space/index.ts';

const CACHE_FORMAT = 'cream-scratch-accuracy-1';

/** One architecture's accuracy when trained from scratch. */
export interface ScratchResult {
  arch: Arch;
  flops: number;
  params: number;
  /** Validation split of the scratch config, final (EMA) weights; never the test split. */
  valTop1: number;
  valTop5: number;
  valLoss: number;
  steps: number;
  /** Training time, including any run before a kill. */
  seconds: number;
}

export interface ScratchNetworkStart {
  index: number;
  total: number;
  arch: Arch;
  /** Found in the cache: nothing is trained. */
  cached: boolean;
  /** Step a killed training of this network resumes at (0: from the start). */
  resumedAtStep: number;
  /** Steps of a full training of this network. */
  totalSteps: number;
}

export interface ScratchEvents {
  onNetworkStart?(e: ScratchNetworkStart): void;
  /** A training step of the current network finished (`step` counts from 1). */
  onStep?(step: number, totalSteps: number): void;
  onNetworkDone?(e: { index: number; total: number; result: ScratchResult; cached: boolean }): void;
}

export interface ScratchAccuracyOptions {
  archs: readonly Arch[];
  /** A resolved retrain config with `space` set; its `arch` is ignored. */
  config: RetrainConfig;
  /** The JSON cache file (created if missing). */
  cachePath: string;
  events?: ScratchEvents;
}

export interface ScratchAccuracies {
  /** In the order of `archs`. */
  results: ScratchResult[];
  /** Networks trained (or finished) by this call. */
  trained: number;
  /** Networks taken from the cache. */
  reused: number;
  /** The key of the config + space + split in the cache file. */
  configKey: string;
}

interface CacheFile {
  format: typeof CACHE_FORMAT;
  /** configKey -> what it stands for (for the record). */
  configs: Record<string, { config: unknown; split: SplitDescription }>;
  /** configKey -> canonical architecture (compact form) -> result. */
  results: Record<string, Record<string, ScratchResult>>;
}

export class ScratchCacheError extends Error {
  override name = 'ScratchCacheError';
}

/** JSON with object keys sorted, so equal values always hash the same. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The settings that decide a result. Left out: the architecture (keyed separately), threads,
 * loader workers, evaluation batching and checkpoint spacing (they do not change what is
 * computed), the space's name (its resolved content counts instead) and the dataset's paths (the
 * split description fingerprints the images themselves).
 */
function resultDefiningSettings(config: RetrainConfig): unknown {
  const { arch: _arch, space: _space, threads: _threads, eval: _eval, checkpoint: _checkpoint, ...rest } = config;
  const {
    workers: _workers,
    dir: _dir,
    trainRoot: _tr,
    trainList: _tl,
    testRoot: _sr,
    testList: _sl,
    ...data
  } = config.data;
  return { ...rest, data };
}

/** A split description without the pools' names (labels, not content). */
function contentOfSplit(split: SplitDescription): unknown {
  return {
    ...split,
    pools: {
      train: { ...split.pools.train, name: undefined },
      test: split.pools.test ? { ...split.pools.test, name: undefined } : null,
    },
  };
}

function readCache(path: string): CacheFile {
  if (!existsSync(path)) return { format: CACHE_FORMAT, configs: {}, results: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ScratchCacheError(`${path}: not a scratch-accuracy cache (${(err as Error).message})`);
  }
  const c = parsed as Partial<CacheFile> | null;
  if (c?.format !== CACHE_FORMAT || typeof c.configs !== 'object' || typeof c.results !== 'object') {
    throw new ScratchCacheError(`${path}: not a scratch-accuracy cache (format is not ${CACHE_FORMAT})`);
  }
  return c as CacheFile;
}

/**
 * Validation top-1 of each architecture trained from scratch with `config`, from the cache where
 * it holds the answer. Results are stored after every network.
 */
export async function scratchAccuracies(options: ScratchAccuracyOptions): Promise<ScratchAccuracies> {
  const { config, cachePath, events = {} } = options;
  if (!config.space) throw new RetrainConfigError('the scratch config has no space');
  const space = loadSpace(config.space);
  const split = describeSplit(loadRetrainData(config, space).splits);
  const configKey = sha256(
    stableJson({ settings: resultDefiningSettings(config), space, split: contentOfSplit(split) }),
  ).slice(0, 32);
  const workRoot = `${cachePath}.work`;
  let cache = readCache(cachePath);
  const results: ScratchResult[] = [];
  let trained = 0;
  let reused = 0;
  const total = options.archs.length;
  for (let index = 0; index < total; index++) {
    // Skips placed differently build the same network: train and store the canonical form.
    const arch = canonicalArch(space, options.archs[index]);
    const archKey = formatArchCompact(arch);
    const hit = cache.results[configKey]?.[archKey];
    if (hit) {
      events.onNetworkStart?.({ index, total, arch, cached: true, resumedAtStep: 0, totalSteps: hit.steps });
      results.push(hit);
      reused++;
      events.onNetworkDone?.({ index, total, result: hit, cached: true });
      continue;
    }
    const workDir = join(workRoot, `${configKey.slice(0, 16)}-${sha256(archKey).slice(0, 16)}`);
    // A kill before the first checkpoint leaves a metrics log and nothing to resume from.
    if (existsSync(workDir) && !existsSync(join(workDir, CHECKPOINT_FILE))) rmSync(workDir, { recursive: true });
    const resuming = existsSync(workDir);
    const trainer = new Retrainer({ ...config, arch }, new RunFolder(workDir));
    let result: ScratchResult;
    try {
      if (resuming) trainer.resume();
      events.onNetworkStart?.({
        index,
        total,
        arch,
        cached: false,
        resumedAtStep: trainer.step,
        totalSteps: trainer.totalSteps,
      });
      await trainer.train({ onStep: (m, steps) => events.onStep?.(m.step + 1, steps) });
      const val = trainer.evaluateEma('val');
      // The last epoch row holds the training time, a resumed run's time before the kill included.
      const epochs = trainer.run.readJsonLines<RetrainMetrics>('metrics.jsonl').filter((r) => r.kind === 'epoch');
      const cost = childCost(space, arch);
      result = {
        arch,
        flops: cost.macs,
        params: cost.params,
        valTop1: val.top1,
        valTop5: val.top5,
        valLoss: val.loss,
        steps: trainer.step,
        seconds: epochs.at(-1)?.seconds ?? 0,
      };
    } finally {
      trainer.dispose();
    }
    // Re-read before writing: another process sharing the file may have added results meanwhile.
    cache = readCache(cachePath);
    cache.configs[configKey] = { config: { ...config, arch: undefined }, split };
    cache.results[configKey] = { ...cache.results[configKey], [archKey]: result };
    mkdirSync(dirname(cachePath), { recursive: true });
    writeFileAtomicSync(cachePath, `${JSON.stringify(cache, null, 1)}\n`);
    rmSync(workDir, { recursive: true, force: true });
    results.push(result);
    trained++;
    events.onNetworkDone?.({ index, total, result, cached: false });
  }
  if (existsSync(workRoot)) {
    try {
      rmdirSync(workRoot);
    } catch {
      // Not empty: another run's unfinished networks are still there.
    }
  }
  return { results, trained, reused, configKey };
}
