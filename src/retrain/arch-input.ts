// What `--arch` accepts: the search's best.json ({space, arch, ...}), a plain architecture JSON
// (a list of stages), or a text file with the compact form (`k3e4/k5e6,k5e6/...`).
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Arch, parseArch, type SearchSpace } from '../space/index.ts';
import { RetrainConfigError, resolveSpaceReference } from './retrain-config.ts';

export interface ArchInput {
  /** Undecoded architecture (validated later against the space). */
  arch: unknown;
  /** The space named in the file (best.json), made absolute if it is a relative file path. */
  space?: string;
}

export function readArchFile(path: string): ArchInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RetrainConfigError(
      `--arch ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return { arch: trimmed };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    throw new RetrainConfigError(`--arch ${path}: not valid JSON: ${(err as Error).message}`);
  }
  if (Array.isArray(value)) return { arch: value };
  const record = value as Record<string, unknown>;
  if (!('arch' in record)) {
    throw new RetrainConfigError(`--arch ${path}: a JSON object needs an "arch" field (as the search's best.json has)`);
  }
  if (record.space !== undefined && typeof record.space !== 'string') {
    throw new RetrainConfigError(`--arch ${path}: "space" must be a preset name or file path`);
  }
  const space = record.space === undefined ? undefined : resolveSpaceReference(record.space as string, dirname(path));
  return { arch: record.arch, space };
}

/** Validates `arch` against `space` (deeper stages allowed, as for the released Cream models). */
export function checkArch(space: SearchSpace, arch: unknown, source: string): Arch {
  try {
    return parseArch(space, arch, { allowDeeper: true });
  } catch (err) {
    throw new RetrainConfigError(
      `${source}: the architecture does not fit space ${space.name}: ${(err as Error).message}`,
    );
  }
}
