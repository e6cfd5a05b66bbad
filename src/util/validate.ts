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
