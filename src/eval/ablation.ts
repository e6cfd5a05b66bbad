/**
 * The ablation of the paper's Table 1 (issue 6), re-run for real: for every row (how the supernet
 * is trained, how the answer is read off it) and seed, a search on the same data, budget and step
 * count; the rank correlation of its supernet on one fixed set of sampled architectures (their
 * from-scratch accuracies are trained once and shared by all rows through the scratch cache); and
 * the retraining of its answer, scored on the test split. Every piece lives in its own folder and
 * is skipped when already done, resumed when a checkpoint is there, so a killed experiment
 * continues where it stopped.
 */
import { copyFileSync, existsSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { completeSearch } from '../cream/complete-search.ts';
import {
  loadSearchConfigFile,
  loadSearchPreset,
  SEARCH_PRESETS,
  type SearchConfig,
  withOverrides,
} from '../cream/search-config.ts';
import { CHECKPOINT_FILE } from '../cream/search-trainer.ts';
import { RunFolder } from '../io/run-folder.ts';
import {
  completeRetrain,
  loadRetrainConfigFile,
  loadRetrainPreset,
  RETRAIN_PRESETS,
  type RetrainConfig,
  type RetrainResult,
} from '../retrain/index.ts';
import type { Arch } from '../space/index.ts';
import { ABLATION_ROWS, type AblationConfig, AblationConfigError, type AblationRow } from './ablation-config.ts';
import {
  type RankEvents,
  type RankResult,
  runRankExperiment,
  scratchConfigFor,
  writeRankReport,
} from './rank-experiment.ts';

export interface AblationCell {
  row: AblationRow;
  seed: number;
  dir: string;
  arch: Arch;
  flops: number;
  params: number;
  /** The answer's supernet accuracy (BN re-calibrated, validation split). */
  supernetTop1: number;
  searchSeconds: number;
  kendallTau: number | null;
  spearmanRho: number | null;
  /** The answer retrained from scratch: EMA weights on the test split (null: no retraining). */
  retrainTestTop1: number | null;
  retrainValTop1: number | null;
}

export interface Stat {
  mean: number;
  /** Sample standard deviation (0 for one value). */
  sd: number;
  n: number;
}

export interface AblationSummary {
  row: AblationRow;
  label: string;
  kendallTau: Stat | null;
  supernetTop1: Stat;
  retrainTestTop1: Stat | null;
  mflops: Stat;
}

export interface AblationResult {
  config: AblationConfig;
  cells: AblationCell[];
  summary: AblationSummary[];
}

export interface AblationEvents {
  /** A new piece of work starts (`what` names it); `total` steps or items, `done` already done. */
  onPhase?(what: string, total: number, done: number): void;
  onProgress?(done: number, fields: Record<string, string | number>): void;
  onLog?(message: string): void;
}

/** Mean and sample standard deviation of the finite values; null if there are none. */
export function stat(values: readonly (number | null)[]): Stat | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd, n: v.length };
}

function baseSearchConfig(ref: string): SearchConfig {
  return (SEARCH_PRESETS as readonly string[]).includes(ref) ? loadSearchPreset(ref) : loadSearchConfigFile(ref);
}

function retrainConfigOf(ref: string): RetrainConfig {
  return (RETRAIN_PRESETS as readonly string[]).includes(ref) ? loadRetrainPreset(ref) : loadRetrainConfigFile(ref);
}

/** The search config of one row and seed: the base, the experiment's overrides, the row's method. */
export function rowSearchConfig(config: AblationConfig, row: AblationRow, seed: number): SearchConfig {
  const recipe = ABLATION_ROWS[row];
  return withOverrides(
    baseSearchConfig(config.search),
    {
      ...config.overrides,
      seed,
      threads: config.threads,
      'distill.teacher': recipe.teacher,
      'select.method': recipe.select,
    },
    `ablation row ${row}, seed ${seed}`,
  );
}

/** Refuses a folder that holds a run of other settings: resuming it would mix two experiments. */
function claimFolder(run: RunFolder, text: string): void {
  if (run.exists('config.resolved.yaml')) {
    if (run.readText('config.resolved.yaml') !== text) {
      throw new AblationConfigError(
        `${run.path('config.resolved.yaml')} holds other settings than this experiment asks for; use another --out`,
      );
    }
  } else run.writeText('config.resolved.yaml', text);
}

interface BestFile {
  arch: Arch;
  flops: number;
  params: number;
  validationAccuracy: number;
  seconds: number;
}

/**
 * The row whose supernet training a row can take over: one with the same teacher that keeps the
 * board (it reads its answer off the board). Training does not depend on how the answer is read
 * later, so `spos-evolution` evolves over `spos-board`'s supernet and `meta-evolution` over
 * `meta`'s: the comparison isolates the selection, and a third of the training is saved.
 */
export function trainingDonor(row: AblationRow, rows: readonly AblationRow[]): AblationRow | null {
  const mine = ABLATION_ROWS[row];
  if (mine.select === 'board') return null;
  return rows.find((r) => ABLATION_ROWS[r].teacher === mine.teacher && ABLATION_ROWS[r].select === 'board') ?? null;
}

/** The files of a finished training that a search resumes from. */
const TRAINING_FILES = [CHECKPOINT_FILE, 'metrics.jsonl', 'split.json'];

/** Copies a donor's finished training into `run` (each file whole or not at all). */
function adoptTraining(run: RunFolder, donorDir: string): void {
  for (const name of TRAINING_FILES) {
    const from = join(donorDir, name);
    if (!existsSync(from)) continue;
    copyFileSync(from, run.path(`${name}.tmp`));
    renameSync(run.path(`${name}.tmp`), run.path(name));
  }
}

async function searchCell(
  config: SearchConfig,
  dir: string,
  donorDir: string | null,
  events: AblationEvents,
  name: string,
): Promise<BestFile> {
  const run = new RunFolder(dir);
  claimFolder(run, toYaml(config));
  if (run.exists('best.json')) return JSON.parse(run.readText('best.json')) as BestFile;
  if (donorDir !== null && !run.exists(CHECKPOINT_FILE)) {
    if (!existsSync(join(donorDir, 'best.json')))
      throw new Error(`${name}: the training to reuse in ${donorDir} is not finished`);
    adoptTraining(run, donorDir);
    events.onLog?.(`${name}: reusing the supernet trained in ${donorDir}`);
  }
  let searching = false;
  await completeSearch(config, run, {
    onTrainingStart: (search) => events.onPhase?.(`${name}: search`, search.totalSteps, search.step),
    onStep: (m) => events.onProgress?.(m.step + 1, { loss: m.loss.toFixed(3), board: m.boardSize }),
    onLog: (m) => events.onLog?.(`${name}: ${m}`),
    onCandidates: (done, total) => {
      if (!searching) events.onPhase?.(`${name}: ${config.select.method} search`, total, 0);
      searching = true;
      events.onProgress?.(done, {});
    },
  });
  return JSON.parse(run.readText('best.json')) as BestFile;
}

async function rankCell(
  config: AblationConfig,
  dir: string,
  cachePath: string,
  events: AblationEvents,
  name: string,
): Promise<RankResult> {
  const folder = new RunFolder(join(dir, 'rank'));
  const scratchConfig = retrainConfigOf(config.rank.scratch);
  claimFolder(folder, toYaml({ n: config.rank.n, seed: config.rank.seed, scratch: scratchConfig }));
  if (folder.exists('rank.json')) return JSON.parse(folder.readText('rank.json')) as RankResult;
  events.onPhase?.(`${name}: rank correlation (supernet scores)`, config.rank.n, 0);
  const rankEvents: RankEvents = {
    onSupernet: (done) => events.onProgress?.(done, {}),
    onNetworkStart: (e) => {
      if (!e.cached) events.onPhase?.(`from-scratch network ${e.index + 1}/${e.total}`, e.totalSteps, e.resumedAtStep);
    },
    onStep: (step) => events.onProgress?.(step, {}),
    onLog: (m) => events.onLog?.(`${name}: ${m}`),
  };
  const result = await runRankExperiment({
    searchRun: dir,
    n: config.rank.n,
    seed: config.rank.seed,
    scratchConfig,
    cachePath,
    threads: config.threads,
    events: rankEvents,
  });
  writeRankReport(folder, result);
  return result;
}

async function retrainCell(
  config: RetrainConfig,
  dir: string,
  events: AblationEvents,
  name: string,
): Promise<RetrainResult> {
  const run = new RunFolder(dir);
  claimFolder(run, toYaml(config));
  if (run.exists('result.json')) return JSON.parse(run.readText('result.json')) as RetrainResult;
  return completeRetrain(config, run, {
    onTrainingStart: (trainer) => events.onPhase?.(`${name}: retrain`, trainer.totalSteps, trainer.step),
    onStep: (m) => events.onProgress?.(m.step + 1, { loss: m.loss.toFixed(3) }),
  });
}

export async function runAblation(
  config: AblationConfig,
  out: string,
  events: AblationEvents = {},
): Promise<AblationResult> {
  // Every row's config is built (and validated) before any work starts.
  // Rows that take over another row's training run after it.
  const order = [...config.rows].sort(
    (a, b) => Number(trainingDonor(a, config.rows) !== null) - Number(trainingDonor(b, config.rows) !== null),
  );
  const plans = config.seeds.flatMap((seed) =>
    order.map((row) => ({
      row,
      seed,
      search: rowSearchConfig(config, row, seed),
      donor: trainingDonor(row, config.rows),
    })),
  );
  const cellDir = (row: AblationRow, seed: number) => join(out, row, `seed-${seed}`);
  const cachePath = join(out, 'scratch-cache.json');
  const cells: AblationCell[] = [];
  for (const p of plans) {
    const name = `${p.row} seed ${p.seed}`;
    const dir = cellDir(p.row, p.seed);
    const best = await searchCell(p.search, dir, p.donor && cellDir(p.donor, p.seed), events, name);
    const rank = await rankCell(config, dir, cachePath, events, name);
    let retrain: RetrainResult | null = null;
    if (config.retrain !== null) {
      const base = scratchConfigFor(retrainConfigOf(config.retrain), p.search, config.threads);
      retrain = await retrainCell({ ...base, arch: best.arch, seed: p.seed }, join(dir, 'retrain'), events, name);
    }
    const finite = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);
    cells.push({
      row: p.row,
      seed: p.seed,
      dir,
      arch: best.arch,
      flops: best.flops,
      params: best.params,
      supernetTop1: best.validationAccuracy,
      searchSeconds: best.seconds,
      kendallTau: finite(rank.kendallTau),
      spearmanRho: finite(rank.spearmanRho),
      retrainTestTop1: retrain?.ema.test.top1 ?? null,
      retrainValTop1: retrain?.ema.val.top1 ?? null,
    });
    events.onLog?.(`${name}: done`);
  }
  cells.sort((a, b) => a.seed - b.seed || config.rows.indexOf(a.row) - config.rows.indexOf(b.row));
  const summary = config.rows.map((row): AblationSummary => {
    const mine = cells.filter((c) => c.row === row);
    return {
      row,
      label: ABLATION_ROWS[row].label,
      kendallTau: stat(mine.map((c) => c.kendallTau)),
      supernetTop1: stat(mine.map((c) => c.supernetTop1))!,
      retrainTestTop1: stat(mine.map((c) => c.retrainTestTop1)),
      mflops: stat(mine.map((c) => c.flops / 1e6))!,
    };
  });
  return { config, cells, summary };
}

const fmtStat = (s: Stat | null, scale = 1, digits = 2) =>
  s === null ? 'n/a' : `${(s.mean * scale).toFixed(digits)} ± ${(s.sd * scale).toFixed(digits)}`;

/** The results table in markdown: mean ± sample standard deviation over the seeds. */
export function ablationMarkdown(r: AblationResult): string {
  const seeds = r.config.seeds.join(', ');
  // Presets by name, files by their base name (the JSON keeps the full paths).
  const ref = (v: string | null) => (v === null ? 'not run' : basename(v));
  const lines = [
    `Ablation (Table 1 of the paper), search ${ref(r.config.search)}, seeds ${seeds}; mean ± sd over seeds.`,
    `Kendall tau-b: supernet vs from-scratch accuracy of ${r.config.rank.n} sampled architectures (${ref(r.config.rank.scratch)}).`,
    `Retrained: the row's answer trained from scratch (${ref(r.config.retrain)}), EMA weights, test split.`,
    '',
    '| row | method | Kendall tau | supernet val top-1 (%) | retrained test top-1 (%) | MFLOPs |',
    '|---|---|---|---|---|---|',
    ...r.summary.map(
      (s) =>
        `| ${s.row} | ${s.label} | ${fmtStat(s.kendallTau, 1, 3)} | ${fmtStat(s.supernetTop1, 100)} | ` +
        `${fmtStat(s.retrainTestTop1, 100)} | ${fmtStat(s.mflops, 1, 1)} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

export function writeAblationReport(out: string, r: AblationResult): void {
  const folder = new RunFolder(out);
  folder.writeJson('results.json', r);
  folder.writeText('results.md', ablationMarkdown(r));
}
