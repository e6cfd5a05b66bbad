// Model files for error-path tests, without training: an initialised tiny network saved with the
// description a retraining run would write (space, architecture, data settings, split).
import { fileURLToPath } from 'node:url';
import { describeSplit } from '../../src/data/index.ts';
import { saveCheckpoint } from '../../src/io/checkpoint.ts';
import { ChildNetwork } from '../../src/models/index.ts';
import { InitRandom } from '../../src/nn/index.ts';
import { describeModel, type ModelDescription } from '../../src/retrain/model-file.ts';
import { loadRetrainConfigFile, type RetrainConfig } from '../../src/retrain/retrain-config.ts';
import { loadRetrainData } from '../../src/retrain/retrain-data.ts';
import { type Arch, loadSpace } from '../../src/space/index.ts';

export const TINY_CONFIG = fileURLToPath(new URL('./fixtures/tiny-retrain.yaml', import.meta.url));

export function tinyConfig(): RetrainConfig {
  return loadRetrainConfigFile(TINY_CONFIG);
}

let cached: ModelDescription | null = null;

/** The description of the tiny fixture run (loads Fashion-MNIST once). */
export function tinyDescription(): ModelDescription {
  if (!cached) {
    const config = tinyConfig();
    const space = loadSpace(config.space!);
    const data = loadRetrainData(config, space);
    cached = describeModel(space, config.arch!, config.data, data.normalize, describeSplit(data.splits));
  }
  return structuredClone(cached);
}

/**
 * Writes a model file: `final` holds group `model`; `checkpoint` holds `model`, `ema` (scaled
 * weights, so the two groups differ) and an empty optimizer. `weightsArch` builds the tensors from
 * another architecture than the description names.
 */
export function writeModelFile(
  path: string,
  opts: {
    kind?: 'final' | 'checkpoint';
    weightsArch?: Arch;
    description?: ModelDescription | null;
    seed?: number;
  } = {},
): void {
  const description = opts.description === undefined ? tinyDescription() : opts.description;
  const config = tinyConfig();
  const space = loadSpace(config.space!);
  const net = new ChildNetwork(space, opts.weightsArch ?? config.arch!, new InitRandom(opts.seed ?? 1));
  const groups: Record<string, Map<string, import('../../src/tensor/index.ts').Tensor>> = { model: net.stateDict() };
  const state: Record<string, unknown> = description ? { model: description } : { step: 3 };
  saveCheckpoint(path, groups, state);
  if (opts.kind === 'checkpoint') {
    const ema = new ChildNetwork(space, opts.weightsArch ?? config.arch!, new InitRandom((opts.seed ?? 1) + 100));
    saveCheckpoint(path, { model: net.stateDict(), ema: ema.stateDict(), optimizer: new Map() }, state);
    ema.dispose();
  }
  net.dispose();
}
