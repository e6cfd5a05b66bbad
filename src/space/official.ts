/**
 * The official Cream code's architecture form: a list of per-stage choice indices including the
 * fixed first and last stages, e.g. Cream-481M
 * `[[0],[3,4,3,1],[3,2,3,0],[3,3,3,1,1],[3,3,3,3],[3,3,3,3],[0]]`.
 *
 * - index i = the stage's i-th op (imagenet: 0=k3e4 1=k3e6 2=k5e4 3=k5e6 4=k7e4 5=k7e6);
 *   -1 = skip (the official supernet's convention; released children have no skips).
 * - Fixed slots (each fixed stage of the space, and the head's 1x1 conv if `head.channels`) must
 *   be `[0]`; the bare form with only the searchable stages is accepted too.
 * - A stage with exactly one entry keeps the stage's `template` op whatever its index: the
 *   official child builder only substitutes choices into stages of two or more blocks
 *   (Cream-287M's `[3]` in the c24 stage builds k3e4, not k5e6). Spaces without templates use
 *   the index as is.
 */
import type { Arch } from './arch.ts';
import { validateArch } from './arch.ts';
import { SpaceError } from './errors.ts';
import type { SearchSpace } from './resolve.ts';

/** Per official slot: the searchable stage index, or 'fixed'. */
function officialSlots(space: SearchSpace): ('fixed' | number)[] {
  const slots: ('fixed' | number)[] = space.body.map((b) => (b.kind === 'fixed' ? 'fixed' : b.stage.index));
  if (space.head.convChannels !== undefined) slots.push('fixed');
  return slots;
}

/** Convert the official index form to an `Arch` (child network: stages may be deeper than the supernet). */
export function importOfficialArch(space: SearchSpace, lists: unknown): Arch {
  if (!Array.isArray(lists))
    throw new SpaceError(`official arch: expected a list of index lists, got ${JSON.stringify(lists)}`);
  const full = officialSlots(space);
  const bare = space.stages.map((s) => s.index);
  let slots: ('fixed' | number)[];
  if (lists.length === full.length) slots = full;
  else if (lists.length === bare.length) slots = bare;
  else {
    throw new SpaceError(
      `official arch: expected ${full.length} stage lists (fixed stages included) or ${bare.length} (searchable only), got ${lists.length}`,
    );
  }
  const arch: Arch = [];
  lists.forEach((entry: unknown, k: number) => {
    const slot = slots[k];
    if (!Array.isArray(entry) || entry.some((v) => !Number.isInteger(v))) {
      throw new SpaceError(`official arch entry ${k}: expected a list of integers, got ${JSON.stringify(entry)}`);
    }
    if (slot === 'fixed') {
      if (entry.length !== 1 || entry[0] !== 0) {
        throw new SpaceError(`official arch entry ${k}: a fixed stage must be [0], got ${JSON.stringify(entry)}`);
      }
      return;
    }
    const stage = space.stages[slot];
    if (entry.length === 1 && stage.template !== undefined) {
      arch.push([stage.template]);
      return;
    }
    arch.push(
      entry.map((idx: number, li: number) => {
        if (idx === -1) return 'skip';
        const op = stage.ops[idx];
        if (op === undefined) {
          throw new SpaceError(
            `official arch stage ${slot} layer ${li}: index ${idx} out of range (0..${stage.ops.length - 1} = ${stage.ops.join(', ')}; -1 = skip)`,
          );
        }
        return op;
      }),
    );
  });
  validateArch(space, arch, { allowDeeper: true });
  return arch;
}

/** Convert an `Arch` to the official index form (fixed slots included). Skips are dropped. */
export function exportOfficialArch(space: SearchSpace, arch: Arch): number[][] {
  validateArch(space, arch, { allowDeeper: true });
  return officialSlots(space).map((slot) => {
    if (slot === 'fixed') return [0];
    const stage = space.stages[slot];
    const ops = arch[slot].filter((op) => op !== 'skip');
    if (ops.length === 1 && stage.template !== undefined && ops[0] !== stage.template) {
      throw new SpaceError(
        `official arch: stage ${slot} has one layer "${ops[0]}", but the official form can only express its template "${stage.template}" there`,
      );
    }
    return ops.map((op) => stage.ops.indexOf(op));
  });
}
