// Scopes free the temporaries of a block of work (a training step) in one go: every tensor created
// inside `tidy` is disposed when it ends, except what the block returns or explicitly `keep`s.
import type { Tensor } from './tensor.ts';

const scopes: Set<Tensor>[] = [];

/** Called by the Tensor constructor: the tensor belongs to the innermost open scope, if any. */
export function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Removes `t` from scope tracking: it lives until disposed by hand. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a scope's block may return nothing.
type Tensors = Tensor | Tensor[] | Record<string, unknown> | undefined | void | number | string | boolean | null;

function collect(value: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor): void {
  if (isTensor(value)) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, out, isTensor);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, isTensor);
  }
}

let tensorCheck: (v: unknown) => v is Tensor = (_v): _v is Tensor => false;
/** Wired by tensor.ts to avoid an import cycle. */
export function setTensorCheck(check: (v: unknown) => v is Tensor): void {
  tensorCheck = check;
}

/**
 * Runs `fn`; disposes every tensor created during it except those in its return value (tensors,
 * arrays or plain objects of tensors), which move to the enclosing scope.
 */
export function tidy<T extends Tensors>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors, tensorCheck);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  for (const t of survivors) if (scope.has(t)) track(t);
  return result;
}

/** Async variant for steps that await (e.g. the next batch). */
export async function tidyAsync<T extends Tensors>(fn: () => Promise<T>): Promise<T> {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = await fn();
  } finally {
    const i = scopes.lastIndexOf(scope);
    if (i >= 0) scopes.splice(i, 1);
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors, tensorCheck);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  for (const t of survivors) if (scope.has(t)) track(t);
  return result;
}
