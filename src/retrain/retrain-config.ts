// Every setting of a retraining run, validated in one place. Unknown keys are errors naming their
// path. Defaults are the paper's retraining recipe (shared/CREAM.md §4) with the run length, EMA
// decay and augmentation strength left to the presets, which adapt them to the dataset.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RAND_AUGMENT_OPS } from '../data/index.ts';
import { readConfigFile } from '../util/config-file.ts';
import { datasetSourceShape } from '../util/dataset-schema.ts';
import { applyOverrides, validateWith } from '../util/validate.ts';

const positiveInt = z.number().int().positive();

export const retrainConfigSchema = z.strictObject({
  /** Space preset name or file (filled from the search's best.json by `cream retrain --arch`). */
  space: z.string().optional(),
  /** One list of op names per searchable stage (filled from `--arch`). */
  arch: z.array(z.array(z.string())).optional(),
  seed: z.number().int().min(0).default(0),
  /** Kernel threads (default: all cores). */
  threads: positiveInt.optional(),
  data: z
    .strictObject({
      ...datasetSourceShape,
      /** Training images (default: all not held out for validation). */
      train: positiveInt.optional(),
      /** Held-out validation images, evaluated every epoch. */
      val: positiveInt.default(10000),
      /** Test images (default: the whole test pool), evaluated once at the end. */
      test: positiveInt.optional(),
      /** Loader worker threads (0: on the main thread). */
      workers: z.number().int().min(0).default(1),
    })
    .prefault({}),
  train: z
    .strictObject({
      epochs: positiveInt.default(40),
      batchSize: positiveInt.default(128),
      /** Peak learning rate per 1,024 images, scaled linearly to the batch (paper: 0.064). */
      lrPer1024: z.number().positive().default(0.064),
      /** Peak learning rate as is (replaces the scaled lrPer1024). */
      lr: z.number().positive().optional(),
      /** Linear warm-up length (fractions allowed), then cosine to minLr, per step. */
      warmupEpochs: z.number().min(0).default(3),
      /** Learning rate at the first warm-up step. */
      warmupLr: z.number().min(0).default(1e-6),
      minLr: z.number().min(0).default(1e-5),
      labelSmoothing: z.number().min(0).max(1).default(0.1),
      /** Dropout before the classifier (default: the space's head dropout). */
      dropout: z.number().min(0).lt(1).optional(),
    })
    .prefault({}),
  /** RMSprop in TensorFlow's form (timm RMSpropTF). */
  optimizer: z
    .strictObject({
      alpha: z.number().min(0).lt(1).default(0.9),
      eps: z.number().positive().default(1e-3),
      momentum: z.number().min(0).lt(1).default(0.9),
      /** L2 weight decay on conv and linear weights (not on biases or BN). */
      weightDecay: z.number().min(0).default(1e-5),
    })
    .prefault({}),
  /** Exponential moving average of the weights; the EMA weights are evaluated and exported. */
  ema: z
    .strictObject({
      /** Paper: 0.9999 over 500 ImageNet epochs; a run of ~15k steps wants ~0.999. */
      decay: z.number().min(0).lt(1).default(0.999),
      /** TensorFlow's num_updates rule: decay min(decay, (1 + t) / (10 + t)) at update t. */
      warmup: z.boolean().default(true),
    })
    .prefault({}),
  augment: z
    .strictObject({
      /** Random-crop padding in pixels (default: the dataset's, 2 for 28x28 images). */
      cropPadding: z.number().int().min(0).optional(),
      /** Horizontal flips (default: the dataset's; off for digits). */
      flip: z.boolean().optional(),
      randAugment: z
        .strictObject({
          ops: z.number().int().min(0).default(2),
          magnitude: z.number().min(0).max(10).default(9),
          magnitudeStd: z.number().min(0).default(0.5),
          probability: z.number().min(0).max(1).default(0.5),
          choices: z.array(z.enum(RAND_AUGMENT_OPS)).min(1).optional(),
        })
        .nullable()
        .prefault({}),
      erasing: z
        .strictObject({
          probability: z.number().min(0).max(1).default(0.2),
          mode: z.enum(['pixel', 'zero']).default('pixel'),
        })
        .nullable()
        .prefault({}),
    })
    .prefault({}),
  eval: z
    .strictObject({
      batchSize: positiveInt.default(256),
      /** Validation of the EMA weights every this many epochs (and always after the last). */
      everyEpochs: positiveInt.default(1),
      /** Also score the raw (non-EMA) weights at the end, for comparison. */
      raw: z.boolean().default(true),
    })
    .prefault({}),
  checkpoint: z.strictObject({ everySteps: positiveInt.default(500) }).prefault({}),
});

export type RetrainConfig = z.output<typeof retrainConfigSchema>;

/** Named so the CLI reports it as a configuration mistake. */
export class RetrainConfigError extends Error {
  override name = 'ConfigError';
}

export const RETRAIN_PRESET_DIR = fileURLToPath(new URL('../../presets/retrain/', import.meta.url));
export const RETRAIN_PRESETS = ['fmnist-quick', 'fmnist', 'rank-scratch'] as const;

export function validateRetrainConfig(raw: unknown, source = 'config'): RetrainConfig {
  const config = validateWith(retrainConfigSchema, raw ?? {}, source, (m) => new RetrainConfigError(m));
  if (config.train.warmupEpochs >= config.train.epochs) {
    throw new RetrainConfigError(
      `${source}: train.warmupEpochs (${config.train.warmupEpochs}) must be below train.epochs (${config.train.epochs})`,
    );
  }
  return config;
}

/** The peak learning rate: `lr` as given, or lrPer1024 scaled to the batch. */
export function peakLearningRate(config: RetrainConfig): number {
  return config.train.lr ?? (config.train.lrPer1024 * config.train.batchSize) / 1024;
}

const looksLikeFile = (s: string) => /\.(ya?ml|json)$/i.test(s) || s.includes('/');

/** A space file named relative to `baseDir` (a config's or best.json's folder) becomes absolute. */
export function resolveSpaceReference(space: string, baseDir: string): string {
  if (!looksLikeFile(space) || isAbsolute(space)) return space;
  const beside = resolve(baseDir, space);
  return existsSync(beside) || !existsSync(space) ? beside : resolve(space);
}

/** Reads a YAML or JSON config file. */
export function loadRetrainConfigFile(path: string): RetrainConfig {
  const config = validateRetrainConfig(
    readConfigFile(path, (m) => new RetrainConfigError(m)),
    path,
  );
  if (config.space) config.space = resolveSpaceReference(config.space, dirname(path));
  return config;
}

export function loadRetrainPreset(name: string): RetrainConfig {
  if (!(RETRAIN_PRESETS as readonly string[]).includes(name)) {
    throw new RetrainConfigError(`unknown retrain preset ${name} (presets: ${RETRAIN_PRESETS.join(', ')})`);
  }
  return loadRetrainConfigFile(`${RETRAIN_PRESET_DIR}${name}.yaml`);
}

/** Applies dotted-path overrides (`train.epochs` -> 3; undefined values are skipped) and re-validates. */
export function withRetrainOverrides(
  config: RetrainConfig,
  overrides: Record<string, unknown>,
  source = 'overrides',
): RetrainConfig {
  return validateRetrainConfig(applyOverrides(config, overrides), source);
}
