// A whole search run in one call: continue from the folder's checkpoint when there is one, train,
// choose the answer, write the report. `cream search` and the ablation experiment both run searches
// this way; they differ only in how they show progress.
import type { RunFolder } from '../io/run-folder.ts';
import type { SearchConfig } from './search-config.ts';
import { writeSearchReport } from './search-report.ts';
import { CHECKPOINT_FILE, CreamSearch, type SearchEvents, type SearchResult } from './search-trainer.ts';

export interface SearchRunHooks extends SearchEvents {
  /** Training starts at `search.step` of `search.totalSteps`; `resumed` when a checkpoint was loaded. */
  onTrainingStart?(search: CreamSearch, resumed: boolean): void;
  /** Training is over; the final selection follows. */
  onTrainingEnd?(): void;
}

export async function completeSearch(
  config: SearchConfig,
  run: RunFolder,
  hooks: SearchRunHooks = {},
): Promise<SearchResult> {
  const search = new CreamSearch(config, run);
  try {
    const resumed = run.exists(CHECKPOINT_FILE);
    if (resumed) search.resume();
    hooks.onTrainingStart?.(search, resumed);
    await search.train(hooks);
    hooks.onTrainingEnd?.();
    const result = search.select(hooks);
    writeSearchReport(run, search, result);
    return result;
  } finally {
    search.dispose();
  }
}
