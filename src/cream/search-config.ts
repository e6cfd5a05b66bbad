// Every setting of a Cream search, validated in one place. Unknown keys are errors naming their
// path; defaults follow the paper (shared/CREAM.md §3-4) scaled to the dataset.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { besideConfig, readConfigFile } from '../util/config-file.ts';
import { datasetSourceShape } from '../util/dataset-schema.ts';
import { applyOverrides, validateWith } from '../util/validate.ts';

const positiveInt = z.number().int().positive();

export const searchConfigSchema = z.strictObject({
  /** Space preset name or file. */
  space: z.string().default('fmnist'),
  seed: z.number().int().min(0).default(0),
  /** Kernel threads (default: all cores). */
  threads: positiveInt.optional(),
  data: z
    .strictObject({
      ...datasetSourceShape,
      /** Training images (default: all not held out). */
      train: positiveInt.optional(),
      /** Held-out validation images (final selection). */
      val: positiveInt.default(10000),
      /** Validation images the board scores paths on (paper: 2,048 of 50,000). */
      valSubset: positiveInt.default(2048),
      test: positiveInt.optional(),
      /** Loader worker threads (0: on the main thread). */
      workers: z.number().int().min(0).default(1),
    })
    .default({ dataset: 'fashion-mnist', val: 10000, valSubset: 2048, workers: 1 }),
  train: z
    .strictObject({
      epochs: positiveInt.default(120),
      /** Epochs of plain uniform single-path training before the board fills. */
      warmupEpochs: z.number().int().min(0).default(20),
      batchSize: positiveInt.default(128),
      /** Peak LR, annealed linearly to 0 per step. */
      lr: z.number().positive().default(0.5),
      momentum: z.number().min(0).max(1).default(0.9),
      nesterov: z.boolean().default(true),
      weightDecay: z.number().min(0).default(4e-5),
      labelSmoothing: z.number().min(0).max(1).default(0.1),
    })
    .default({
      epochs: 120,
      warmupEpochs: 20,
      batchSize: 128,
      lr: 0.5,
      momentum: 0.9,
      nesterov: true,
      weightDecay: 4e-5,
      labelSmoothing: 0.1,
    }),
  /** FLOPs budget (multiply-accumulates) of sampled paths; omitted bounds mean the space's extremes. */
  budget: z
    .strictObject({ minFlops: z.number().min(0).optional(), maxFlops: z.number().positive().optional() })
    .default({}),
  board: z
    .strictObject({
      size: positiveInt.default(10),
      /** 'validation': accuracy on the fixed validation subset (paper); 'train-batch': the official cheap estimate. */
      accuracy: z.enum(['validation', 'train-batch']).default('validation'),
    })
    .default({ size: 10, accuracy: 'validation' }),
  distill: z
    .strictObject({
      /** Teacher selection: meta (paper), random board path, largest path of the space, top1 board path, none (SPOS). */
      teacher: z.enum(['meta', 'random', 'largest', 'top1', 'none']).default('meta'),
      /** Images of the batch slice the meta network compares (official: 4). */
      sliceSize: positiveInt.default(4),
      /** Hidden width of the meta network (0: a single linear layer, as the official code). */
      metaHidden: z.number().int().min(0).default(0),
      /** Steps between meta-network updates (tau). */
      metaUpdateEvery: positiveInt.default(200),
      metaLr: z.number().positive().default(1e-4),
      weighting: z.enum(['paper', 'official']).default('paper'),
      /** rho used by the non-meta teacher modes. */
      fixedRho: z.number().min(0).max(1).default(0.5),
    })
    .default({
      teacher: 'meta',
      sliceSize: 4,
      metaHidden: 0,
      metaUpdateEvery: 200,
      metaLr: 1e-4,
      weighting: 'paper',
      fixedRho: 0.5,
    }),
  select: z
    .strictObject({
      /**
       * How the answer is read off the trained supernet: 'board' (Cream: the best board path),
       * 'evolution' (SPOS's evolutionary search) or 'random' (random search); the last two are the
       * paper's baselines and score candidates with BN re-calibration, like the board pick.
       */
      method: z.enum(['board', 'evolution', 'random']).default('board'),
      /** Training batches used to re-calibrate each board path's BN statistics. */
      recalibrationBatches: positiveInt.default(20),
      /** Validation images for the final choice (default: the whole validation split). */
      evalImages: positiveInt.optional(),
      /**
       * Validation images each evolution/random candidate is scored on (default: data.valSubset);
       * the top-k finalists are then scored on `evalImages`, as board paths are.
       */
      candidateImages: positiveInt.optional(),
      /** SPOS evolution settings (defaults: the published ones). */
      evolution: z
        .strictObject({
          population: positiveInt.default(50),
          iterations: positiveInt.default(20),
          topK: positiveInt.default(10),
          mutations: z.number().int().min(0).default(25),
          crossovers: z.number().int().min(0).default(25),
          mutationProb: z.number().min(0).max(1).default(0.1),
        })
        .prefault({}),
      /** Paths random search scores (default: as many as the evolution scores, population x iterations). */
      randomCandidates: positiveInt.optional(),
    })
    .prefault({}),
  checkpoint: z.strictObject({ everySteps: positiveInt.default(500) }).default({ everySteps: 500 }),
});

export type SearchConfig = z.output<typeof searchConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const SEARCH_PRESET_DIR = fileURLToPath(new URL('../../presets/search/', import.meta.url));
export const SEARCH_PRESETS = ['fmnist-quick', 'fmnist', 'imagenet'] as const;

export function validateSearchConfig(raw: unknown, source = 'config'): SearchConfig {
  const config = validateWith(searchConfigSchema, raw ?? {}, source, (m) => new ConfigError(m));
  if (config.train.warmupEpochs >= config.train.epochs) {
    throw new ConfigError(
      `${source}: train.warmupEpochs (${config.train.warmupEpochs}) must be below train.epochs (${config.train.epochs})`,
    );
  }
  if (config.data.valSubset > config.data.val) {
    throw new ConfigError(
      `${source}: data.valSubset (${config.data.valSubset}) cannot exceed data.val (${config.data.val})`,
    );
  }
  const evo = config.select.evolution;
  if (evo.mutations + evo.crossovers > evo.population) {
    throw new ConfigError(
      `${source}: select.evolution.mutations + crossovers (${evo.mutations + evo.crossovers}) exceed select.evolution.population (${evo.population})`,
    );
  }
  if (config.select.candidateImages !== undefined && config.select.candidateImages > config.data.val) {
    throw new ConfigError(
      `${source}: select.candidateImages (${config.select.candidateImages}) cannot exceed data.val (${config.data.val})`,
    );
  }
  const { minFlops, maxFlops } = config.budget;
  if (minFlops !== undefined && maxFlops !== undefined && minFlops > maxFlops) {
    throw new ConfigError(`${source}: budget.minFlops (${minFlops}) is above budget.maxFlops (${maxFlops})`);
  }
  return config;
}

/** Reads a YAML or JSON config file. */
export function loadSearchConfigFile(path: string): SearchConfig {
  const config = validateSearchConfig(
    readConfigFile(path, (m) => new ConfigError(m)),
    path,
  );
  // A space file named in a config is found relative to the config file.
  config.space = besideConfig(config.space, path);
  return config;
}

export function loadSearchPreset(name: string): SearchConfig {
  if (!(SEARCH_PRESETS as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown search preset ${name} (presets: ${SEARCH_PRESETS.join(', ')})`);
  }
  return loadSearchConfigFile(`${SEARCH_PRESET_DIR}${name}.yaml`);
}

/** Applies dotted-path overrides (`train.epochs` -> 3) and re-validates. */
export function withOverrides(
  config: SearchConfig,
  overrides: Record<string, unknown>,
  source = 'overrides',
): SearchConfig {
  return validateSearchConfig(applyOverrides(config, overrides), source);
}
