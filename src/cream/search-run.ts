// Opening a finished (or checkpointed) search run for reading: its resolved config and a
// `CreamSearch` with the supernet weights of its last checkpoint. Unlike `CreamSearch.resume()`
// nothing in the folder is written (resume trims the metrics log), so a run that another process
// is still training, or one shared by several experiments, can be read safely.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SplitMismatchError, verifySplit } from '../data/index.ts';
import { CheckpointError, checkpointGroup, loadCheckpoint } from '../io/checkpoint.ts';
import { RunFolder } from '../io/run-folder.ts';
import { ConfigError, loadSearchConfigFile, type SearchConfig } from './search-config.ts';
import { CHECKPOINT_FILE, CreamSearch, SearchError } from './search-trainer.ts';

export const SEARCH_CONFIG_FILE = 'config.resolved.yaml';

export interface SearchRun {
  dir: string;
  config: SearchConfig;
  /** Built from the run's config, supernet weights loaded; `dispose()` it when done. */
  search: CreamSearch;
  /** Training step the checkpoint was written at. */
  step: number;
  /** Whether the checkpoint is the end of training (the search may still be unfinished). */
  finished: boolean;
}

export interface OpenSearchRunOptions {
  /** Kernel threads, replacing the run's recorded setting. */
  threads?: number;
}

/** The part of a search checkpoint's state that reading needs. */
interface CheckpointState {
  step?: unknown;
  split?: unknown;
}

/**
 * Opens the search run in `dir` for reading. A missing folder, config or checkpoint, a config that
 * is not a search's, or a checkpoint that is truncated, foreign or of another space is one error
 * naming the file.
 */
export function openSearchRun(dir: string, options: OpenSearchRunOptions = {}): SearchRun {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SearchError(`search run ${dir}: no such folder`);
  const configPath = join(dir, SEARCH_CONFIG_FILE);
  if (!existsSync(configPath)) {
    throw new SearchError(`search run ${dir}: no ${SEARCH_CONFIG_FILE} there (not a search run folder)`);
  }
  let config: SearchConfig;
  try {
    config = loadSearchConfigFile(configPath);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`not a search run's config: ${err.message}`);
    throw err;
  }
  if (options.threads !== undefined) config = { ...config, threads: options.threads };
  const checkpointPath = join(dir, CHECKPOINT_FILE);
  if (!existsSync(checkpointPath)) {
    throw new CheckpointError(`${checkpointPath}: no such file (the search stopped before its first checkpoint)`);
  }
  // Read the checkpoint before building the supernet: a bad file fails fast, before data loading.
  let contents: ReturnType<typeof loadCheckpoint<CheckpointState>>;
  try {
    contents = loadCheckpoint<CheckpointState>(checkpointPath);
  } catch (err) {
    const message = (err as Error).message;
    throw new CheckpointError(message.includes(checkpointPath) ? message : `${checkpointPath}: ${message}`);
  }
  const step = contents.state?.step;
  if (typeof step !== 'number' || contents.state?.split === undefined) {
    throw new CheckpointError(`${checkpointPath}: not a search checkpoint (its state has no step or split)`);
  }
  const search = new CreamSearch(config, new RunFolder(dir));
  try {
    try {
      search.supernet.loadStateDict(checkpointGroup(contents, 'model'));
    } catch (err) {
      throw new CheckpointError(
        `${checkpointPath}: the weights do not fit the supernet of space ${config.space}: ${(err as Error).message}`,
      );
    }
    try {
      verifySplit(contents.state.split as Parameters<typeof verifySplit>[0], search.data.splits);
    } catch (err) {
      if (err instanceof SplitMismatchError) throw new SplitMismatchError(`${checkpointPath}: ${err.message}`);
      throw err;
    }
    return { dir, config, search, step, finished: step >= search.totalSteps };
  } catch (err) {
    search.dispose();
    throw err;
  }
}
