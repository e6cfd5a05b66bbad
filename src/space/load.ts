/**
 * Loading spaces: a preset name (a file under `presets/spaces/`, e.g. `imagenet`, `fmnist+conv`)
 * or a path to a YAML/JSON file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { SpaceError } from './errors.ts';
import { resolveSpace, type SearchSpace } from './resolve.ts';
import { parseSpaceSpec } from './schema.ts';

/** Folder of the preset space files. */
export const PRESET_DIR = fileURLToPath(new URL('../../presets/spaces/', import.meta.url));

/** Names of the preset spaces, sorted. */
export function listPresets(): string[] {
  return readdirSync(PRESET_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** Parse and resolve a space from YAML or JSON text (JSON is a subset of YAML). */
export function parseSpace(text: string, name = 'space'): SearchSpace {
  let raw: unknown;
  try {
    raw = YAML.parse(text, { uniqueKeys: true });
  } catch (e) {
    throw new SpaceError(`${name}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  return resolveSpace(parseSpaceSpec(raw, name), name);
}

/** Validate and resolve already-decoded space data (e.g. a section of a larger config). */
export function spaceFromData(raw: unknown, name = 'space'): SearchSpace {
  return resolveSpace(parseSpaceSpec(raw, name), name);
}

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || ['.yaml', '.yml', '.json'].includes(extname(s).toLowerCase());
}

function readSpaceFile(path: string, name: string): SearchSpace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SpaceError(
      `cannot read space file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseSpace(text, name);
}

const presetCache = new Map<string, SearchSpace>();

/**
 * Load a space by preset name (`imagenet`, `fmnist`, `imagenet+resblock`, ...) or by file path.
 * A bare name is a preset if one exists, else a file; anything with a slash or a .yaml/.yml/.json
 * extension is a file.
 */
export function loadSpace(nameOrPath: string): SearchSpace {
  if (!looksLikePath(nameOrPath)) {
    const cached = presetCache.get(nameOrPath);
    if (cached) return cached;
    const file = join(PRESET_DIR, `${nameOrPath}.yaml`);
    if (existsSync(file)) {
      const space = readSpaceFile(file, nameOrPath);
      presetCache.set(nameOrPath, space);
      return space;
    }
    if (!existsSync(nameOrPath)) {
      throw new SpaceError(`unknown space "${nameOrPath}": not a preset (${listPresets().join(', ')}) nor a file`);
    }
  }
  return readSpaceFile(nameOrPath, nameOrPath);
}
