// Settings of the ablation experiment (the paper's Table 1, issue 6): which search every row starts
// from, the rows, the seeds, the rank-correlation set-up and the retraining of each row's answer.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { besideConfig, readConfigFile } from '../util/config-file.ts';
import { validateWith } from '../util/validate.ts';

/** The rows of Table 1: how the supernet is trained (teacher) and how the answer is read off it. */
export const ABLATION_ROWS = {
  'spos-evolution': { teacher: 'none', select: 'evolution', label: 'SPOS + evolution search' },
  'spos-board': { teacher: 'none', select: 'board', label: 'SPOS training + board pick' },
  largest: { teacher: 'largest', select: 'board', label: 'distillation from the largest path' },
  'random-board': { teacher: 'random', select: 'board', label: 'distillation from a random board path' },
  meta: { teacher: 'meta', select: 'board', label: 'meta-matched distillation (Cream)' },
  'meta-evolution': { teacher: 'meta', select: 'evolution', label: 'meta-matched + evolution search' },
} as const;

export type AblationRow = keyof typeof ABLATION_ROWS;
const rowNames = Object.keys(ABLATION_ROWS) as [AblationRow, ...AblationRow[]];

export const ablationConfigSchema = z.strictObject({
  /** Search preset or config file every row starts from. */
  search: z.string().default('fmnist-quick'),
  /** Dotted-path overrides applied to every row's search config (e.g. `train.epochs: 3`). */
  overrides: z.record(z.string(), z.unknown()).default({}),
  rows: z
    .array(z.enum(rowNames))
    .min(1)
    .default([...rowNames]),
  seeds: z.array(z.number().int().min(0)).min(1).default([0, 1, 2]),
  rank: z
    .strictObject({
      /** Architectures sampled within the budget (the same ones for every row and seed). */
      n: z.number().int().min(2).default(30),
      seed: z.number().int().min(0).default(0),
      /** Retrain preset or config file of the short from-scratch schedule. */
      scratch: z.string().default('rank-scratch'),
    })
    .prefault({}),
  /** Retrain preset or config file for each row's answer; null: no retraining. */
  retrain: z.string().nullable().default('fmnist-quick'),
  /** Kernel threads (default: all cores). */
  threads: z.number().int().positive().optional(),
});

export type AblationConfig = z.output<typeof ablationConfigSchema>;

export class AblationConfigError extends Error {
  override name = 'ConfigError';
}

export const ABLATION_PRESET_DIR = fileURLToPath(new URL('../../presets/experiments/', import.meta.url));
export const ABLATION_PRESETS = ['ablation-quick', 'ablation'] as const;

export function validateAblationConfig(raw: unknown, source = 'config'): AblationConfig {
  const c = validateWith(ablationConfigSchema, raw ?? {}, source, (m) => new AblationConfigError(m));
  if (new Set(c.rows).size !== c.rows.length) throw new AblationConfigError(`${source}: rows: a row is listed twice`);
  if (new Set(c.seeds).size !== c.seeds.length)
    throw new AblationConfigError(`${source}: seeds: a seed is listed twice`);
  return c;
}

export function loadAblationConfigFile(path: string): AblationConfig {
  const c = validateAblationConfig(
    readConfigFile(path, (m) => new AblationConfigError(m)),
    path,
  );
  // Files named in the config are found beside it; preset names stay as they are.
  return {
    ...c,
    search: besideConfig(c.search, path),
    rank: { ...c.rank, scratch: besideConfig(c.rank.scratch, path) },
    retrain: c.retrain === null ? null : besideConfig(c.retrain, path),
  };
}

export function loadAblationPreset(name: string): AblationConfig {
  if (!(ABLATION_PRESETS as readonly string[]).includes(name)) {
    throw new AblationConfigError(`unknown experiment preset ${name} (presets: ${ABLATION_PRESETS.join(', ')})`);
  }
  return loadAblationConfigFile(`${ABLATION_PRESET_DIR}${name}.yaml`);
}
