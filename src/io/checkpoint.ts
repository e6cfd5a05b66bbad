// Checkpoints: one safetensors file holding named groups of tensors (model weights, optimiser
// state, ...) and a JSON state object in its metadata, written atomically so that a kill at any
// moment leaves either the previous checkpoint or the new one, never a torn file.
import { existsSync } from 'node:fs';
import type { Tensor } from '../tensor/index.ts';
import { readSafetensorsSync, type SafetensorsTensor, writeSafetensorsSync } from './safetensors.ts';

export interface TensorRecord {
  shape: number[];
  data: Float32Array;
}

export interface CheckpointContents<S> {
  /** group -> tensor name -> tensor. */
  groups: Map<string, Map<string, TensorRecord>>;
  state: S;
}

const STATE_KEY = 'cream.state';
const FORMAT_KEY = 'cream.format';
const FORMAT = 'cream-checkpoint-1';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Writes `groups` (name prefix -> state dict) and `state` (JSON) to `path` atomically. */
export function saveCheckpoint(path: string, groups: Record<string, Map<string, Tensor>>, state: unknown): void {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [group, dict] of Object.entries(groups)) {
    if (group.includes('/')) throw new CheckpointError(`checkpoint group name ${group} must not contain '/'`);
    for (const [name, t] of dict) tensors[`${group}/${name}`] = { dtype: 'F32', shape: [...t.shape], data: t.f32 };
  }
  writeSafetensorsSync(path, tensors, { [FORMAT_KEY]: FORMAT, [STATE_KEY]: JSON.stringify(state) });
}

export function loadCheckpoint<S>(path: string): CheckpointContents<S> {
  if (!existsSync(path)) throw new CheckpointError(`no checkpoint at ${path}`);
  const file = readSafetensorsSync(path);
  if (file.metadata[FORMAT_KEY] !== FORMAT) {
    throw new CheckpointError(
      `${path}: not a cream-ts checkpoint (metadata ${FORMAT_KEY} is ${file.metadata[FORMAT_KEY] ?? 'missing'})`,
    );
  }
  let state: S;
  try {
    state = JSON.parse(file.metadata[STATE_KEY] ?? '') as S;
  } catch {
    throw new CheckpointError(`${path}: metadata ${STATE_KEY} is not valid JSON`);
  }
  const groups = new Map<string, Map<string, TensorRecord>>();
  for (const [key, t] of Object.entries(file.tensors)) {
    const slash = key.indexOf('/');
    if (slash < 0) throw new CheckpointError(`${path}: tensor ${key} belongs to no group`);
    if (t.dtype !== 'F32') throw new CheckpointError(`${path}: tensor ${key} has dtype ${t.dtype}, expected F32`);
    const group = key.slice(0, slash);
    if (!groups.has(group)) groups.set(group, new Map());
    groups.get(group)!.set(key.slice(slash + 1), { shape: t.shape, data: t.data as Float32Array });
  }
  return { groups, state };
}

/** A group of a loaded checkpoint; an empty map if absent. */
export function checkpointGroup<S>(c: CheckpointContents<S>, group: string): Map<string, TensorRecord> {
  return c.groups.get(group) ?? new Map();
}
