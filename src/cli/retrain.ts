import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import type { RunFolder } from '../io/run-folder.ts';
import { checkArch, readArchFile } from '../retrain/arch-input.ts';
import { completeRetrain } from '../retrain/complete-retrain.ts';
import { CHECKPOINT_FILE, FINAL_FILE } from '../retrain/model-file.ts';
import {
  loadRetrainConfigFile,
  loadRetrainPreset,
  peakLearningRate,
  type RetrainConfig,
  validateRetrainConfig,
  withRetrainOverrides,
} from '../retrain/retrain-config.ts';
import type { RetrainResult } from '../retrain/retrain-trainer.ts';
import { formatArch, loadSpace } from '../space/index.ts';
import { UsageError } from './errors.ts';
import { intOption, numberOption } from './options.ts';
import { createProgress, type LogMode, progressMode, withProgressOptions } from './progress.ts';
import { createRunFolder, newRunDir, openRunToResume } from './run-folders.ts';

export interface RetrainOptions {
  arch?: string;
  space?: string;
  config?: string;
  preset?: string;
  resume?: string;
  out?: string;
  epochs?: string;
  seed?: string;
  trainImages?: string;
  batchSize?: string;
  lr?: string;
  emaDecay?: string;
  dropout?: string;
  threads?: string;
  workers?: string;
  data?: string;
  log: LogMode;
  quiet?: boolean;
}

/** Options that change what a run computes; a resumed run takes all of them from its folder. */
const SETTING_OPTIONS: [keyof RetrainOptions, string][] = [
  ['arch', '--arch'],
  ['space', '--space'],
  ['config', '--config'],
  ['preset', '--preset'],
  ['epochs', '--epochs'],
  ['seed', '--seed'],
  ['trainImages', '--train-images'],
  ['batchSize', '--batch-size'],
  ['lr', '--lr'],
  ['emaDecay', '--ema-decay'],
  ['dropout', '--dropout'],
  ['threads', '--threads'],
  ['workers', '--workers'],
  ['data', '--data'],
];

/** The config of a fresh run: preset or file, then --arch/--space and the other overrides; arch checked. */
export function resolveRetrainConfig(o: RetrainOptions): RetrainConfig {
  if (o.config && o.preset) throw new UsageError('give either --config or --preset, not both');
  const base = o.config
    ? loadRetrainConfigFile(o.config)
    : o.preset
      ? loadRetrainPreset(o.preset)
      : validateRetrainConfig({});
  const archInput = o.arch ? readArchFile(o.arch) : undefined;
  const config = withRetrainOverrides(
    base,
    {
      space: o.space ?? archInput?.space,
      seed: intOption(o.seed, '--seed'),
      threads: intOption(o.threads, '--threads'),
      [base.data.dataset === 'image-folder' ? 'data.trainRoot' : 'data.dir']: o.data,
      'data.train': intOption(o.trainImages, '--train-images'),
      'data.workers': intOption(o.workers, '--workers'),
      'train.epochs': intOption(o.epochs, '--epochs'),
      'train.batchSize': intOption(o.batchSize, '--batch-size'),
      'train.lr': numberOption(o.lr, '--lr'),
      'train.dropout': numberOption(o.dropout, '--dropout'),
      'ema.decay': numberOption(o.emaDecay, '--ema-decay'),
    },
    'command-line options',
  );
  if (!config.space)
    throw new UsageError('no search space: give --space, or an --arch file with a "space" field (best.json)');
  const rawArch = archInput?.arch ?? config.arch;
  if (rawArch === undefined)
    throw new UsageError('no architecture: give --arch best.json (or a plain architecture JSON with --space)');
  // An architecture outside the space is refused here, before any folder is created.
  config.arch = checkArch(loadSpace(config.space), rawArch, o.arch ? `--arch ${o.arch}` : 'config arch');
  return config;
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

export function summarizeRetrain(r: RetrainResult): string {
  return [
    `architecture: ${formatArch(r.arch)}`,
    `FLOPs (MACs): ${r.flops.toLocaleString('en-US')}  params: ${r.params.toLocaleString('en-US')}`,
    `EMA weights: validation top-1 ${pct(r.ema.val.top1)}, test top-1 ${pct(r.ema.test.top1)} (top-5 ${pct(r.ema.test.top5)})`,
    ...(r.raw ? [`raw weights: validation top-1 ${pct(r.raw.val.top1)}, test top-1 ${pct(r.raw.test.top1)}`] : []),
    `epochs: ${r.epochs}, steps: ${r.steps}, training time: ${r.seconds.toFixed(0)} s`,
  ].join('\n');
}

export async function runRetrain(o: RetrainOptions): Promise<RetrainResult> {
  const mode = progressMode(o);
  let config: RetrainConfig;
  let run: RunFolder;
  if (o.resume) {
    const given = SETTING_OPTIONS.filter(([k]) => o[k] !== undefined).map(([, flag]) => flag);
    if (o.out !== undefined) given.push('--out');
    if (given.length > 0) {
      throw new UsageError(
        `--resume takes every setting from ${join(o.resume, 'config.resolved.yaml')}; drop ${given.join(', ')}`,
      );
    }
    run = openRunToResume(o.resume, 'retrain', CHECKPOINT_FILE);
    config = loadRetrainConfigFile(run.path('config.resolved.yaml'));
  } else {
    config = resolveRetrainConfig(o);
    run = createRunFolder(newRunDir(o.out, 'retrain', o.preset), [CHECKPOINT_FILE, FINAL_FILE], toYaml(config));
  }
  const progress = createProgress(mode);
  progress.log(`run folder: ${run.dir}`);
  let lastVal = '-';
  const result = await completeRetrain(config, run, {
    onTrainingStart: (trainer, resumed) => {
      if (resumed) progress.log(`resumed at step ${trainer.step} of ${trainer.totalSteps}`);
      progress.log(
        `${trainer.data.splits.train.indices.length} training images, ${trainer.stepsPerEpoch} steps per epoch, ` +
          `peak LR ${peakLearningRate(config).toPrecision(3)}, EMA decay ${config.ema.decay}`,
      );
      progress.start('retrain', trainer.totalSteps, trainer.step);
    },
    onStep: (m) =>
      progress.update(m.step + 1, {
        epoch: m.epoch + 1,
        loss: m.loss.toFixed(3),
        lr: m.lr.toPrecision(2),
        val: lastVal,
        'img/s': Math.round(m.imagesPerSecond),
      }),
    onEpochEnd: (e) => {
      if (e.valTop1 !== null) lastVal = pct(e.valTop1);
      if (mode === 'json') console.log(JSON.stringify({ event: 'epoch', ...e }));
    },
    onTrainingEnd: () => {
      progress.stop();
      progress.log('evaluating the final weights (validation and test splits)');
    },
  });
  if (mode === 'json') console.log(JSON.stringify({ event: 'result', ...result }));
  else console.log(summarizeRetrain(result));
  return result;
}

export function registerRetrainCommand(program: Command): void {
  withProgressOptions(
    program
      .command('retrain')
      .description(
        'train a found architecture from scratch (RMSprop-TF, warm-up + cosine, EMA, label smoothing, RandAugment)',
      )
      .option('--arch <file>', "the search's best.json, or an architecture JSON / compact text (then give --space)")
      .option('--space <name|file>', 'search space preset or file (default: the one named in best.json)')
      .option('--config <file>', 'retrain config (YAML or JSON)')
      .option('--preset <name>', 'fmnist-quick | fmnist | rank-scratch')
      .option('--resume <dir>', 'continue the run in <dir> from its last checkpoint')
      .option('--out <dir>', 'run folder (default runs/retrain-<preset>-<time>)')
      .option('--epochs <n>')
      .option('--seed <n>')
      .option('--train-images <n>', 'training images (default: all not held out)')
      .option('--batch-size <n>')
      .option('--lr <x>', 'peak learning rate (default 0.064 per 1,024 images of the batch)')
      .option('--ema-decay <x>', 'decay of the weight EMA')
      .option('--dropout <p>', "dropout before the classifier (default: the space's)")
      .option('--threads <n>', 'kernel threads (default: all cores)')
      .option('--workers <n>', 'data loader worker threads')
      .option('--data <dir>', 'dataset folder replacing the packaged location'),
  ).action(async (o: RetrainOptions) => {
    await runRetrain(o);
  });
}
