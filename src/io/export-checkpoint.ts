/**
 * Reads the child network an export starts from: a cream checkpoint (safetensors) whose JSON state
 * describes the network in either of two shapes:
 *
 *   { space, arch [, resolution, normalize] }                      (saveCheckpoint by hand)
 *   { model: { format: 'cream-child-1', spaceName, space, arch, normalize, ... }, ... }
 *                                                                  (`cream retrain`'s files)
 *
 * `space` is a preset name, a space file path (relative paths are tried from the working
 * directory, then from the checkpoint's folder) or the space spec itself; `arch` is the
 * architecture (JSON value or text). The weights come from group `ema` when the checkpoint has one,
 * else `model` (or the group asked for). A folder stands for its `final.safetensors`, else its
 * `checkpoint.safetensors`, else its only `.safetensors` file.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ChildNetwork } from '../models/index.ts';
import { InitRandom } from '../nn/index.ts';
import {
  type Arch,
  atResolution,
  formatArch,
  loadSpace,
  parseArch,
  type SearchSpace,
  spaceFromData,
} from '../space/index.ts';
import { CheckpointError, loadCheckpoint } from './checkpoint.ts';
import type { Normalization } from './export-metadata.ts';

/** Groups tried, in order, when none is asked for. */
export const WEIGHT_GROUPS = ['ema', 'model'] as const;

export interface LoadedChild {
  /** The checkpoint file read. */
  path: string;
  group: string;
  space: SearchSpace;
  arch: Arch;
  /** In eval mode, with the checkpoint's weights and BN statistics. */
  net: ChildNetwork;
  /** The input normalisation the network was trained with, when the checkpoint records it. */
  normalize?: Normalization;
}

/** The checkpoint file a path stands for. */
export function resolveCheckpointFile(fileOrDir: string): string {
  if (!existsSync(fileOrDir)) throw new CheckpointError(`no checkpoint at ${fileOrDir}`);
  if (!statSync(fileOrDir).isDirectory()) return fileOrDir;
  for (const name of ['final.safetensors', 'checkpoint.safetensors']) {
    const p = join(fileOrDir, name);
    if (existsSync(p)) return p;
  }
  const files = readdirSync(fileOrDir).filter((f) => f.endsWith('.safetensors'));
  if (files.length === 1) return join(fileOrDir, files[0]);
  throw new CheckpointError(
    files.length === 0
      ? `${fileOrDir}: no .safetensors checkpoint in this folder`
      : `${fileOrDir}: no final.safetensors or checkpoint.safetensors, and several checkpoints (${files.join(', ')}); name one`,
  );
}

interface NetworkDescription {
  space: unknown;
  spaceName?: string;
  arch: unknown;
  resolution?: unknown;
  normalize?: unknown;
}

/** The network description of a checkpoint state, in either shape (see the file comment). */
function describedNetwork(state: Record<string, unknown>): NetworkDescription {
  const m = state.model;
  if (m && typeof m === 'object' && 'arch' in m && 'space' in m) {
    const d = m as Record<string, unknown>;
    return {
      space: d.space,
      spaceName: typeof d.spaceName === 'string' ? d.spaceName : undefined,
      arch: d.arch,
      resolution: d.resolution,
      normalize: d.normalize,
    };
  }
  return { space: state.space, arch: state.arch, resolution: state.resolution, normalize: state.normalize };
}

function spaceOf(d: NetworkDescription, file: string): SearchSpace {
  const ref = d.space;
  let space: SearchSpace;
  if (typeof ref === 'string') {
    const beside = resolve(dirname(file), ref);
    space = existsSync(ref) || !existsSync(beside) ? loadSpace(ref) : loadSpace(beside);
  } else if (ref && typeof ref === 'object') {
    space = spaceFromData(ref, d.spaceName ?? 'checkpoint-space');
  } else {
    throw new CheckpointError(
      `${file}: its state has no "space" (a child-network checkpoint stores { space, arch }; is this a search checkpoint?)`,
    );
  }
  const res = d.resolution;
  return typeof res === 'number' && res !== space.resolution ? atResolution(space, res) : space;
}

function normalizeOf(v: unknown): Normalization | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const { mean, std } = v as Record<string, unknown>;
  const numbers = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number');
  return numbers(mean) && numbers(std) ? { mean, std } : undefined;
}

/**
 * Builds the child network of a checkpoint and loads its weights. Errors name the file; a state
 * dict that does not fit the architecture lists the first mismatching names and shapes.
 */
export function loadChildCheckpoint(fileOrDir: string, opts: { group?: string } = {}): LoadedChild {
  const path = resolveCheckpointFile(fileOrDir);
  const ckpt = loadCheckpoint<Record<string, unknown>>(path);
  const state = ckpt.state && typeof ckpt.state === 'object' ? ckpt.state : {};
  const described = describedNetwork(state);
  const space = spaceOf(described, path);
  if (described.arch === undefined) throw new CheckpointError(`${path}: its state has no "arch"`);
  const arch = parseArch(space, described.arch, { allowDeeper: true });
  const groups = [...ckpt.groups.keys()];
  const group = opts.group ?? WEIGHT_GROUPS.find((g) => ckpt.groups.has(g));
  if (!group || !ckpt.groups.has(group)) {
    throw new CheckpointError(
      `${path}: no weight group ${group ?? WEIGHT_GROUPS.join(' or ')} (the checkpoint has ${groups.join(', ') || 'no groups'})`,
    );
  }
  const net = new ChildNetwork(space, arch, new InitRandom(0));
  try {
    net.loadStateDict(ckpt.groups.get(group)!);
  } catch (e) {
    net.dispose();
    const detail = (e as Error).message.replace(/^loadStateDict: /, '');
    throw new CheckpointError(
      `${path}: group "${group}" does not match architecture ${formatArch(arch)} of space ${space.name}: ${detail}`,
    );
  }
  net.eval();
  return { path, group, space, arch, net, normalize: normalizeOf(described.normalize) };
}
