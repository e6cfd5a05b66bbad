// A real but very short Cream search on Fashion-MNIST in the tiny28 test space (20 steps), written
// to a run folder as `cream search` writes it: config.resolved.yaml and checkpoint.safetensors.
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { loadSearchConfigFile, type SearchConfig, withOverrides } from '../../src/cream/search-config.ts';
import { CreamSearch } from '../../src/cream/search-trainer.ts';
import { RunFolder } from '../../src/io/run-folder.ts';

export const TINY_SEARCH_CONFIG = fileURLToPath(new URL('../fixtures/search/tiny-search.yaml', import.meta.url));
export const TINY_SCRATCH_CONFIG = fileURLToPath(new URL('../fixtures/rank/tiny-scratch.yaml', import.meta.url));

export async function makeTinySearchRun(dir: string): Promise<SearchConfig> {
  const config = withOverrides(loadSearchConfigFile(TINY_SEARCH_CONFIG), {
    threads: 1,
    'data.train': 640,
    'data.val': 500,
    'data.valSubset': 128,
    'train.epochs': 2,
    'train.warmupEpochs': 1,
    'board.size': 2,
    'select.recalibrationBatches': 2,
  });
  const run = new RunFolder(dir);
  run.writeText('config.resolved.yaml', toYaml(config));
  const search = new CreamSearch(config, run);
  try {
    await search.train();
  } finally {
    search.dispose();
  }
  return config;
}
