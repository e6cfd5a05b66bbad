/**
 * Random search, the simplest baseline (shared/CREAM.md §5, issue 6): draw distinct paths uniformly
 * within the FLOPs budget, score each the same way the evolution does, keep the best. Given as many
 * candidates as the evolution scores, it tells how much the evolution's breeding adds.
 */
import type { Arch, ArchSampler, SeededRandom } from '../space/index.ts';
import { freshPath, type IterationSummary, type PathSearchResult } from './evolution.ts';
import { archKey, type ScoredArch, TopK } from './top-k.ts';

export function randomSearch(
  sampler: ArchSampler,
  rng: SeededRandom,
  score: (arch: Arch) => number,
  options: { candidates: number; topK: number },
  onProgress?: (s: IterationSummary) => void,
): PathSearchResult {
  if (!Number.isInteger(options.candidates) || options.candidates < 1) {
    throw new RangeError(`random.candidates must be a positive integer, got ${options.candidates}`);
  }
  const seen = new Set<string>();
  const scored: ScoredArch[] = [];
  const top = new TopK(options.topK);
  for (let i = 0; i < options.candidates; i++) {
    const arch = freshPath(() => sampler.sample(rng), seen);
    if (arch === null) break; // fewer distinct paths in the budget than asked for
    seen.add(archKey(arch));
    const s: ScoredArch = { arch, score: score(arch), flops: sampler.table.pathMacs(arch) };
    scored.push(s);
    top.offer(s);
    const members = top.entries();
    onProgress?.({
      iteration: i,
      evaluated: scored.length,
      best: members[0],
      topKMean: members.reduce((a, m) => a + m.score, 0) / members.length,
    });
  }
  return { top: top.entries(), scored, iterations: [] };
}
