// A trained child network on disk: the checkpoint format's tensors plus, in its JSON state, a
// description that rebuilds the network and its evaluation data without the run folder: the space
// spec itself (not just a file name that may move), the architecture, and the data settings and
// split fingerprint. final.safetensors holds the EMA weights as group `model`; a mid-run
// checkpoint.safetensors holds `model` (raw), `ema` and `optimizer`.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NormalizeOptions, SplitDescription } from '../data/index.ts';
import {
  type CheckpointContents,
  CheckpointError,
  checkpointGroup,
  loadCheckpoint,
  type TensorRecord,
} from '../io/checkpoint.ts';
import { ChildNetwork } from '../models/index.ts';
import { InitRandom } from '../nn/index.ts';
import { type Arch, parseArch, type SearchSpace, type SpaceSpec, spaceFromData } from '../space/index.ts';
import type { RetrainConfig } from './retrain-config.ts';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const FINAL_FILE = 'final.safetensors';
const MODEL_FORMAT = 'cream-child-1';

export interface ModelDescription {
  format: typeof MODEL_FORMAT;
  spaceName: string;
  /** The space file's content, validated (rebuilds the space even if the file is gone). */
  space: SpaceSpec;
  arch: Arch;
  /** Dataset settings, normalisation and split: `cream eval` rebuilds the same val/test images. */
  data: RetrainConfig['data'];
  normalize: NormalizeOptions;
  split: SplitDescription;
}

export function describeModel(
  space: SearchSpace,
  arch: Arch,
  data: RetrainConfig['data'],
  normalize: NormalizeOptions,
  split: SplitDescription,
): ModelDescription {
  return { format: MODEL_FORMAT, spaceName: space.name, space: space.spec, arch, data, normalize, split };
}

export interface LoadedModel {
  /** The file read. */
  path: string;
  /** Which tensor group was loaded: `ema` from a mid-run checkpoint, else `model`. */
  weights: 'ema' | 'model';
  description: ModelDescription;
  space: SearchSpace;
  network: ChildNetwork;
  /** The whole JSON state of the file (metrics, steps). */
  state: Record<string, unknown>;
}

/** A run folder's final.safetensors (else its checkpoint.safetensors), or the file itself. */
export function modelFilePath(dirOrFile: string): string {
  if (!existsSync(dirOrFile)) throw new CheckpointError(`no checkpoint file or run folder at ${dirOrFile}`);
  if (!statSync(dirOrFile).isDirectory()) return dirOrFile;
  for (const name of [FINAL_FILE, CHECKPOINT_FILE]) {
    const p = join(dirOrFile, name);
    if (existsSync(p)) return p;
  }
  throw new CheckpointError(`${dirOrFile} holds neither ${FINAL_FILE} nor ${CHECKPOINT_FILE}`);
}

/** Reads the model description of a loaded checkpoint, or says why it is not a retraining one. */
export function modelDescription(path: string, c: CheckpointContents<unknown>): ModelDescription {
  const state = c.state as { model?: Partial<ModelDescription> } | null;
  const d = state?.model;
  if (!d || d.format !== MODEL_FORMAT) {
    throw new CheckpointError(
      `${path}: not a retrained network (its state has no ${MODEL_FORMAT} model description; a search checkpoint holds a supernet)`,
    );
  }
  return d as ModelDescription;
}

/** Copies checkpoint tensors into `network`; a mismatch (another space or architecture) is a CheckpointError. */
export function loadWeights(
  network: ChildNetwork,
  tensors: Map<string, TensorRecord>,
  path: string,
  group: string,
): void {
  try {
    network.loadStateDict(tensors);
  } catch (err) {
    throw new CheckpointError(
      `${path}: tensors of group "${group}" do not fit the network of architecture ${JSON.stringify(network.arch)} ` +
        `in space ${network.space.name}: ${(err as Error).message.replace(/^loadStateDict: /, '')}`,
    );
  }
}

/** Loads a retrained network (EMA weights where the file has them) from a file or run folder. */
export function loadModelFile(dirOrFile: string): LoadedModel {
  const path = modelFilePath(dirOrFile);
  const c = loadCheckpoint<Record<string, unknown>>(path);
  const description = modelDescription(path, c);
  const space = spaceFromData(description.space, description.spaceName);
  let arch: Arch;
  try {
    arch = parseArch(space, description.arch, { allowDeeper: true });
  } catch (err) {
    throw new CheckpointError(`${path}: its architecture does not fit its own space: ${(err as Error).message}`);
  }
  const weights = c.groups.has('ema') ? 'ema' : 'model';
  const tensors = checkpointGroup(c, weights);
  if (tensors.size === 0) throw new CheckpointError(`${path}: no tensors in group "${weights}"`);
  const network = new ChildNetwork(space, arch, new InitRandom(0));
  try {
    loadWeights(network, tensors, path, weights);
  } catch (err) {
    network.dispose();
    throw err;
  }
  network.eval();
  return { path, weights, description, space, network, state: c.state };
}
