/**
 * The baselines' final selection over a trained supernet (issue 6): evolution (SPOS) or random
 * search proposes paths within the search's FLOPs budget, each scored on the candidate images after
 * BN re-calibration; the top-k finalists are then judged exactly as Cream's board paths are
 * (`CreamSearch.pickBest`), so the methods differ only in where their finalists come from.
 * Writes `candidates.jsonl` (every score, for resume) and `evolution.json` / `random-search.json`
 * (the search's trajectory and top-k) into the run folder.
 */

import type { CreamSearch, SearchEvents, SearchResult } from '../cream/search-trainer.ts';
import { evalBatches } from '../data/index.ts';
import { formatArchCompact, Mulberry32 } from '../space/index.ts';
import { CandidateScorer } from './candidate-scorer.ts';
import { evolutionSearch, type PathSearchResult } from './evolution.ts';
import { randomSearch } from './random-search.ts';

export const CANDIDATES_FILE = 'candidates.jsonl';
const EVAL_BATCH = 256;

export function selectBySearch(search: CreamSearch, events: SearchEvents = {}): SearchResult {
  const cfg = search.config;
  const method = cfg.select.method;
  const batches = search.selectionBatches();
  const { calibration } = batches;
  const val = search.data.splits.val;
  // Default: the board's validation subset (stratified), so candidates are scored on the same
  // images a Cream search scores its paths on.
  const candidateBatches =
    cfg.select.candidateImages === undefined
      ? search.data.boardBatches
      : [
          ...evalBatches(
            { dataset: val.dataset, indices: val.indices.slice(0, cfg.select.candidateImages) },
            { batchSize: EVAL_BATCH, normalize: search.data.normalize },
          ),
        ];
  const scorer = new CandidateScorer(search.supernet, calibration, candidateBatches, search.run, CANDIDATES_FILE, (a) =>
    search.table.pathMacs(a),
  );
  if (scorer.cached > 0) events.onLog?.(`${scorer.cached} candidate scores read from ${CANDIDATES_FILE}`);
  // Its own generator, seeded from the run's seed, so the search is the same whether or not the
  // training before it was resumed.
  const rng = new Mulberry32(cfg.seed + 5);
  const evo = cfg.select.evolution;
  let result: PathSearchResult;
  if (method === 'evolution') {
    const total = evo.population * evo.iterations;
    let done = 0;
    let best = 0;
    result = evolutionSearch(
      search.sampler,
      rng,
      (arch) => {
        const s = scorer.score(arch);
        best = Math.max(best, s);
        events.onCandidates?.(++done, total, best);
        return s;
      },
      evo,
      (it) =>
        events.onLog?.(
          `evolution iteration ${it.iteration + 1}/${evo.iterations}: ${it.evaluated} paths scored, best ` +
            `${(100 * it.best.score).toFixed(2)}% (${formatArchCompact(it.best.arch)}), top-${evo.topK} mean ` +
            `${(100 * it.topKMean).toFixed(2)}%`,
        ),
    );
  } else {
    const total = cfg.select.randomCandidates ?? evo.population * evo.iterations;
    result = randomSearch(
      search.sampler,
      rng,
      (arch) => scorer.score(arch),
      { candidates: total, topK: evo.topK },
      (p) => events.onCandidates?.(p.evaluated, total, p.best.score),
    );
  }
  if (result.top.length === 0) throw new RangeError(`${method} search scored no path`);
  search.run.writeJson(method === 'evolution' ? 'evolution.json' : 'random-search.json', {
    method,
    settings: method === 'evolution' ? evo : { candidates: result.scored.length, topK: evo.topK },
    candidateImages: candidateBatches.reduce((n, b) => n + b.size, 0),
    recalibrationBatches: calibration.length,
    scored: result.scored.length,
    iterations: result.iterations.map((it) => ({
      iteration: it.iteration,
      evaluated: it.evaluated,
      best: { arch: it.best.arch, score: it.best.score, flops: it.best.flops },
      topKMean: it.topKMean,
    })),
    top: result.top,
  });
  return search.pickBest(
    result.top.map((t) => ({ arch: t.arch, flops: t.flops, accuracy: t.score })),
    events,
    batches,
  );
}
