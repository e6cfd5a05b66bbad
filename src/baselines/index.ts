// The paper's baselines over a trained supernet: SPOS evolution and random search (issue 6).
export { CandidateScorer, type ScoreLine } from './candidate-scorer.ts';
export {
  checkEvolutionOptions,
  type EvolutionOptions,
  evolutionSearch,
  type IterationSummary,
  type PathSearchResult,
  SPOS_EVOLUTION,
} from './evolution.ts';
export { randomSearch } from './random-search.ts';
export { CANDIDATES_FILE, selectBySearch } from './search-selection.ts';
export { archKey, byScoreThenFlops, type ScoredArch, TopK } from './top-k.ts';
