// Turns a zod validation failure into one message that names every bad key by its path, the way
// space files and run configs report errors (`train.epochz: unknown key`).
import type { z } from 'zod';

/** `['stages', 2, 'chanels']` -> `stages[2].chanels` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push(`${formatPath([...issue.path, key])}: unknown key`);
    } else {
      problems.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  return problems;
}

/** Validates `raw` against `schema`; throws `makeError(message)` listing every problem, prefixed by `source`. */
export function validateWith<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  source: string,
  makeError: (message: string) => Error = (m) => new Error(m),
): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw makeError(`${source}: ${describeIssues(result.error.issues).join('; ')}`);
}

/**
 * A deep copy of `config` with dotted-path overrides applied (`train.epochs` -> 3); undefined
 * values are skipped. The caller re-validates the result.
 */
export function applyOverrides<T>(config: T, overrides: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const [path, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const keys = path.split('.');
    let node = copy;
    for (const k of keys.slice(0, -1)) {
      if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
  }
  return copy;
}
