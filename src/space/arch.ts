/**
 * Architectures: one list of op names per searchable stage, e.g.
 * `[["k3e4"],["k5e6","k5e6"],...]`. A stage may be shorter than the supernet's depth (the missing
 * layers are `skip`); a child network may also be deeper (`allowDeeper`), as the released
 * Cream-481M and Cream-604M are. The first layer of a stage is never `skip`.
 *
 * Two text forms: JSON (`formatArch`) and a compact one (`formatArchCompact`), stages separated
 * by `/` and layers by `,`: `k3e4/k5e6,k5e6/k5e6,k3e6,k5e6/...`. `parseArch` reads both.
 */
import { SpaceError } from './errors.ts';
import type { SearchSpace } from './resolve.ts';

/** One list of op names per searchable stage. */
export type Arch = string[][];

export interface ArchOptions {
  /** Allow stages deeper than the supernet (child networks). Default false. */
  allowDeeper?: boolean;
}

/** Check `arch` against `space`; throws a SpaceError naming the stage, layer, op and allowed ops. */
export function validateArch(space: SearchSpace, arch: unknown, opts: ArchOptions = {}): asserts arch is Arch {
  if (!Array.isArray(arch)) throw new SpaceError(`arch: expected a list of stages, got ${describe(arch)}`);
  const n = space.stages.length;
  if (arch.length !== n) {
    throw new SpaceError(
      `arch: expected ${n} stages (one list per searchable stage of "${space.name}"), got ${arch.length}`,
    );
  }
  arch.forEach((layers: unknown, si: number) => {
    const stage = space.stages[si];
    if (!Array.isArray(layers))
      throw new SpaceError(`arch stage ${si}: expected a list of op names, got ${describe(layers)}`);
    if (layers.length === 0) throw new SpaceError(`arch stage ${si}: empty (a stage has at least one layer)`);
    if (layers.length > stage.layers && !opts.allowDeeper) {
      throw new SpaceError(
        `arch stage ${si}: ${layers.length} layers but the space allows ${stage.layers} (child networks may be deeper: allowDeeper)`,
      );
    }
    layers.forEach((op: unknown, li: number) => {
      if (typeof op !== 'string')
        throw new SpaceError(`arch stage ${si} layer ${li}: expected an op name, got ${describe(op)}`);
      if (op === 'skip') {
        if (li === 0) throw new SpaceError(`arch stage ${si} layer 0: the first layer of a stage cannot be skip`);
        if (!stage.skip) throw new SpaceError(`arch stage ${si} layer ${li}: skip is not allowed in this stage`);
        return;
      }
      if (!stage.ops.includes(op)) {
        const allowed = li === 0 || !stage.skip ? stage.ops : [...stage.ops, 'skip'];
        throw new SpaceError(`arch stage ${si} layer ${li}: op "${op}" is not allowed; allowed: ${allowed.join(', ')}`);
      }
    });
  });
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/**
 * Parse and validate an architecture from JSON text, the compact form, or an already-decoded value.
 */
export function parseArch(space: SearchSpace, input: unknown, opts: ArchOptions = {}): Arch {
  let value = input;
  if (typeof input === 'string') {
    const text = input.trim();
    if (text.startsWith('[') || text.startsWith('{')) {
      try {
        value = JSON.parse(text);
      } catch (e) {
        throw new SpaceError(`arch: invalid JSON: ${(e as Error).message}`);
      }
    } else {
      value = parseCompact(text);
    }
  }
  validateArch(space, value, opts);
  return value.map((s) => [...s]);
}

function parseCompact(text: string): string[][] {
  if (text === '') throw new SpaceError('arch: empty string');
  return text.split('/').map((s) => s.split(',').map((op) => op.trim()));
}

/** JSON on one line: `[["k3e4"],["k5e6","k5e6"]]`. */
export function formatArch(arch: Arch): string {
  return JSON.stringify(arch);
}

/** Compact form: `k3e4/k5e6,k5e6`. */
export function formatArchCompact(arch: Arch): string {
  return arch.map((s) => s.join(',')).join('/');
}

/** Remove `skip` layers (they are identities): the child network's real layers. */
export function stripSkips(arch: Arch): Arch {
  return arch.map((s) => s.filter((op) => op !== 'skip'));
}

/** Pad each stage with `skip` to the supernet depth (a supernet path). Throws if a stage is deeper. */
export function padArch(space: SearchSpace, arch: Arch): Arch {
  return arch.map((s, si) => {
    const depth = space.stages[si].layers;
    if (s.length > depth) {
      throw new SpaceError(`arch stage ${si}: ${s.length} layers do not fit the supernet's ${depth}`);
    }
    return [...s, ...Array<string>(depth - s.length).fill('skip')];
  });
}

/** Skips removed, then padded at the end: one form per distinct network (same network, same key). */
export function canonicalArch(space: SearchSpace, arch: Arch): Arch {
  const stripped = stripSkips(arch);
  return stripped.every((s, i) => s.length <= space.stages[i].layers) ? padArch(space, stripped) : stripped;
}

/** Whether two architectures build the same network. */
export function sameNetwork(space: SearchSpace, a: Arch, b: Arch): boolean {
  return formatArch(canonicalArch(space, a)) === formatArch(canonicalArch(space, b));
}
