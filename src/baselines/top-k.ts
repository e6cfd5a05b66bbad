// The best k scored paths seen so far: the parents of an evolution and the finalists that a
// baseline search re-scores on the whole validation split.
import type { Arch } from '../space/index.ts';

export interface ScoredArch {
  arch: Arch;
  /** Accuracy (higher is better). */
  score: number;
  flops: number;
}

/** Identity of a path: the JSON of its full-depth op lists (as the board keys its paths). */
export function archKey(arch: Arch): string {
  return JSON.stringify(arch);
}

/** Orders paths best first: higher score, then fewer FLOPs. Stable, so earlier paths win full ties. */
export function byScoreThenFlops(a: ScoredArch, b: ScoredArch): number {
  return b.score - a.score || a.flops - b.flops;
}

export class TopK {
  private members: ScoredArch[] = [];
  constructor(readonly k: number) {}

  offer(s: ScoredArch): void {
    if (this.members.some((m) => archKey(m.arch) === archKey(s.arch))) return;
    this.members.push(s);
    this.members.sort(byScoreThenFlops);
    if (this.members.length > this.k) this.members.length = this.k;
  }

  /** Best first. */
  entries(): ScoredArch[] {
    return [...this.members];
  }
}
