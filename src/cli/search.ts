import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { completeSearch } from '../cream/complete-search.ts';
import {
  loadSearchConfigFile,
  loadSearchPreset,
  type SearchConfig,
  validateSearchConfig,
  withOverrides,
} from '../cream/search-config.ts';
import { CHECKPOINT_FILE, type SearchResult } from '../cream/search-trainer.ts';
import type { RunFolder } from '../io/run-folder.ts';
import { formatArch } from '../space/index.ts';
import { UsageError } from './errors.ts';
import { intOption, numberOption } from './options.ts';
import { createProgress, type LogMode, progressMode, withProgressOptions } from './progress.ts';
import { createRunFolder, newRunDir, openRunToResume } from './run-folders.ts';
import { parseMacs } from './space.ts';

interface SearchOptions {
  config?: string;
  preset?: string;
  resume?: string;
  out?: string;
  epochs?: string;
  warmupEpochs?: string;
  minFlops?: string;
  maxFlops?: string;
  boardSize?: string;
  seed?: string;
  teacher?: string;
  method?: string;
  select?: string;
  space?: string;
  trainImages?: string;
  batchSize?: string;
  lr?: string;
  threads?: string;
  workers?: string;
  data?: string;
  log: LogMode;
  quiet?: boolean;
}

/** The config a fresh run uses: preset or file, then command-line overrides. */
export function resolveSearchConfig(o: SearchOptions): SearchConfig {
  if (o.config && o.preset) throw new UsageError('give either --config or --preset, not both');
  const base = o.config
    ? loadSearchConfigFile(o.config)
    : o.preset
      ? loadSearchPreset(o.preset)
      : validateSearchConfig({});
  return withOverrides(
    base,
    {
      space: o.space,
      seed: intOption(o.seed, '--seed'),
      threads: intOption(o.threads, '--threads'),
      // --data is the IDX folder of the packaged datasets, or the training root of an image folder.
      [base.data.dataset === 'image-folder' ? 'data.trainRoot' : 'data.dir']: o.data,
      'data.train': intOption(o.trainImages, '--train-images'),
      'data.workers': intOption(o.workers, '--workers'),
      'train.epochs': intOption(o.epochs, '--epochs'),
      'train.warmupEpochs': intOption(o.warmupEpochs, '--warmup-epochs'),
      'train.batchSize': intOption(o.batchSize, '--batch-size'),
      'train.lr': numberOption(o.lr, '--lr'),
      'budget.minFlops': o.minFlops === undefined ? undefined : parseMacs(o.minFlops, '--min-flops'),
      'budget.maxFlops': o.maxFlops === undefined ? undefined : parseMacs(o.maxFlops, '--max-flops'),
      'board.size': intOption(o.boardSize, '--board-size'),
      ...methodOverrides(o),
    },
    'command-line options',
  );
}

/** `--method` names a whole recipe (training teacher + selection); `--teacher` / `--select` refine it. */
const METHODS: Record<string, { teacher?: string; select: string }> = {
  cream: { select: 'board' },
  'spos-evolution': { teacher: 'none', select: 'evolution' },
  random: { teacher: 'none', select: 'random' },
};

function methodOverrides(o: SearchOptions): Record<string, unknown> {
  let recipe: { teacher?: string; select?: string } = {};
  if (o.method !== undefined) {
    const m = METHODS[o.method];
    if (!m) throw new UsageError(`--method: expected ${Object.keys(METHODS).join(', ')}, got "${o.method}"`);
    recipe = m;
  }
  return { 'distill.teacher': o.teacher ?? recipe.teacher, 'select.method': o.select ?? recipe.select };
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

export function summarize(result: SearchResult): string {
  const b = result.best;
  return [
    `architecture: ${formatArch(b.arch)}`,
    `FLOPs (MACs): ${b.flops.toLocaleString('en-US')}  params: ${b.params.toLocaleString('en-US')}`,
    `validation accuracy (BN re-calibrated): top-1 ${pct(b.validationAccuracy)}, top-5 ${pct(b.validationTop5)}`,
    `steps: ${result.steps}, training time: ${result.seconds.toFixed(0)} s`,
  ].join('\n');
}

export async function runSearch(o: SearchOptions): Promise<SearchResult> {
  const mode = progressMode(o);
  let config: SearchConfig;
  let run: RunFolder;
  if (o.resume) {
    run = openRunToResume(o.resume, 'search', CHECKPOINT_FILE);
    config = loadSearchConfigFile(run.path('config.resolved.yaml'));
  } else {
    config = resolveSearchConfig(o);
    run = createRunFolder(newRunDir(o.out, 'search', o.preset), [CHECKPOINT_FILE], toYaml(config));
  }
  const progress = createProgress(mode);
  progress.log(`run folder: ${run.dir}`);
  // Phases after training: a baseline's search over candidates (if any), then the finalists.
  let phase = '';
  const enter = (name: string, total: number) => {
    if (phase === name) return;
    progress.stop();
    progress.start(name, total);
    phase = name;
  };
  const result = await completeSearch(config, run, {
    onTrainingStart: (search, resumed) => {
      if (resumed) progress.log(`resumed at step ${search.step} of ${search.totalSteps}`);
      progress.start('search', search.totalSteps, search.step);
    },
    onStep: (m) =>
      progress.update(m.step + 1, {
        loss: m.loss.toFixed(3),
        board: m.boardSize,
        best: m.bestAccuracy === null ? '-' : pct(m.bestAccuracy),
        'img/s': Math.round(m.imagesPerSecond),
      }),
    onTrainingEnd: () => progress.stop(),
    onLog: (m) => progress.log(m),
    onCandidates: (done, total, best) => {
      enter(config.select.method, total);
      progress.update(done, { best: pct(best) });
    },
    onSelect: (done, total) => {
      enter('select', total);
      progress.update(done, {});
    },
  });
  progress.stop();
  if (mode === 'json') console.log(JSON.stringify({ event: 'result', ...result }));
  else console.log(summarize(result));
  return result;
}

export function registerSearchCommand(program: Command): void {
  withProgressOptions(
    program
      .command('search')
      .description('Cream search: train the supernet with prioritized paths and return the best architecture')
      .option('--config <file>', 'search config (YAML or JSON)')
      .option('--preset <name>', 'fmnist-quick | fmnist | imagenet')
      .option('--resume <dir>', 'continue the run in <dir> from its last checkpoint')
      .option('--out <dir>', 'run folder (default runs/search-<preset>-<time>)')
      .option('--space <name|file>', 'search space preset or file')
      .option('--epochs <n>')
      .option('--warmup-epochs <n>')
      .option('--min-flops <macs>', 'e.g. 10M')
      .option('--max-flops <macs>', 'e.g. 30M')
      .option('--board-size <k>')
      .option('--method <name>', 'cream (default) | spos-evolution | random: training teacher + final selection')
      .option('--teacher <mode>', 'meta | random | largest | top1 | none')
      .option('--select <how>', 'board | evolution | random: how the answer is read off the supernet')
      .option('--seed <n>')
      .option('--train-images <n>', 'training images (default: all not held out)')
      .option('--batch-size <n>')
      .option('--lr <x>', 'peak learning rate')
      .option('--threads <n>', 'kernel threads (default: all cores)')
      .option('--workers <n>', 'data loader worker threads')
      .option('--data <dir>', 'dataset folder replacing the packaged location'),
  ).action(async (o: SearchOptions) => {
    await runSearch(o);
  });
}
