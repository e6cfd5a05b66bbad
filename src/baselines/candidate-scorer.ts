/**
 * Scores supernet paths for the baseline searches the way the paper's SPOS baseline does: BN
 * statistics re-calibrated on training batches, then top-1 on validation images. Every score is
 * appended to a JSON-lines file of the run folder as soon as it is known; a resumed run reads the
 * file back and replays the (deterministic) search without evaluating those paths again.
 */

import { recalibratedPathAccuracy } from '../cream/path-evaluator.ts';
import type { Batch } from '../data/index.ts';
import type { RunFolder } from '../io/run-folder.ts';
import type { Supernet } from '../models/index.ts';
import type { Arch } from '../space/index.ts';
import { archKey } from './top-k.ts';

export interface ScoreLine {
  key: string;
  arch: Arch;
  flops: number;
  top1: number;
  top5: number;
}

export class CandidateScorer {
  private readonly cache = new Map<string, ScoreLine>();
  /** Paths evaluated by this process (not read from the file). */
  evaluated = 0;

  constructor(
    private readonly supernet: Supernet,
    private readonly calibration: readonly Batch[],
    private readonly evaluation: readonly Batch[],
    private readonly run: RunFolder,
    readonly file: string,
    private readonly flopsOf: (arch: Arch) => number,
  ) {
    for (const line of run.readJsonLines<ScoreLine>(file)) this.cache.set(line.key, line);
  }

  /** Scores already on file. */
  get cached(): number {
    return this.cache.size;
  }

  /** Validation top-1 of `arch` after BN re-calibration. */
  score(arch: Arch): number {
    const key = archKey(arch);
    const hit = this.cache.get(key);
    if (hit) return hit.top1;
    const r = recalibratedPathAccuracy(this.supernet, arch, this.calibration, this.evaluation);
    const line: ScoreLine = { key, arch, flops: this.flopsOf(arch), top1: r.top1, top5: r.top5 };
    this.cache.set(key, line);
    this.run.appendJsonLine(this.file, line);
    this.evaluated++;
    return r.top1;
  }
}
