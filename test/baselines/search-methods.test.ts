// The baselines end to end on real data: SPOS training (no teacher, no board) followed by
// evolution or random search over the supernet, the files they leave, and a repeated selection
// that replays the recorded scores instead of evaluating again (what `--resume` relies on).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { CANDIDATES_FILE } from '../../src/baselines/index.ts';
import { loadSearchConfigFile, withOverrides } from '../../src/cream/search-config.ts';
import { CreamSearch } from '../../src/cream/search-trainer.ts';
import { FASHION_MNIST_DIR } from '../../src/data/index.ts';
import { RunFolder } from '../../src/io/run-folder.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(root, 'test/fixtures/search/tiny-search.yaml');
const CLI = join(root, 'bin/cream.mjs');
const haveData = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
const skip = haveData ? false : `Fashion-MNIST is not installed (${FASHION_MNIST_DIR})`;

const SMALL_EVOLUTION = { population: 6, iterations: 3, topK: 3, mutations: 2, crossovers: 2, mutationProb: 0.25 };

describe('baseline searches on Fashion-MNIST', { skip }, () => {
  test('SPOS + evolution: no board during training, in-budget finalists, scores replayed on a second selection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cream-spos-'));
    try {
      const config = withOverrides(loadSearchConfigFile(CONFIG), {
        'train.epochs': 2,
        'distill.teacher': 'none',
        'select.method': 'evolution',
        'select.evolution': SMALL_EVOLUTION,
        'select.evalImages': 500,
      });
      const run = new RunFolder(dir);
      const search = new CreamSearch(config, run);
      assert.equal(search.keepsBoard, false);
      await search.train();
      assert.equal(search.board.size, 0, 'SPOS training keeps no board');
      const logs: string[] = [];
      const first = search.select({ onLog: (m) => logs.push(m) });
      assert.equal(logs.filter((l) => l.startsWith('evolution iteration')).length, 3);
      const scored = run.readJsonLines<{ top1: number; flops: number }>(CANDIDATES_FILE);
      assert.equal(scored.length, 18, 'population x iterations paths scored');
      assert.equal(first.candidates.length, 3, 'top-k finalists');
      for (const c of first.candidates) assert.ok(search.sampler.fits(c.arch));
      const evolution = JSON.parse(readFileSync(join(dir, 'evolution.json'), 'utf8'));
      assert.equal(evolution.scored, 18);
      assert.equal(evolution.iterations.length, 3);
      assert.deepEqual(
        first.candidates.map((c) => c.boardAccuracy).sort(),
        evolution.top.map((t: { score: number }) => t.score).sort(),
      );
      // Supernet accuracy of a path after a few SPOS steps: well above chance (10%).
      assert.ok(first.best.validationAccuracy > 0.3, `best ${first.best.validationAccuracy}`);
      search.dispose();

      // A resumed run (training done) replays the evolution from candidates.jsonl.
      const again = new CreamSearch(config, run);
      again.resume();
      await again.train();
      const replayLogs: string[] = [];
      const second = again.select({ onLog: (m) => replayLogs.push(m) });
      assert.ok(replayLogs.includes(`18 candidate scores read from ${CANDIDATES_FILE}`));
      assert.equal(run.readJsonLines(CANDIDATES_FILE).length, 18, 'nothing evaluated twice');
      assert.deepEqual(second.best.arch, first.best.arch);
      assert.equal(second.best.validationAccuracy, first.best.validationAccuracy);
      again.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('cream search --method random from the command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cream-random-'));
    try {
      // The default would score 1,000 paths: too slow here, so a config asks for 8.
      const raw = parseYaml(readFileSync(CONFIG, 'utf8'));
      raw.space = join(root, 'test/fixtures/search', raw.space);
      raw.select = { ...raw.select, randomCandidates: 8, evolution: { topK: 2 }, evalImages: 500 };
      const configFile = join(dir, 'random.yaml');
      writeFileSync(configFile, toYaml(raw));
      const out = join(dir, 'run');
      const r = spawnSync(
        process.execPath,
        [CLI, 'search', '--config', configFile, '--method', 'random', '--epochs', '2', '--out', out, '--quiet'],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /architecture: /);
      const best = JSON.parse(readFileSync(join(out, 'best.json'), 'utf8'));
      assert.deepEqual(best.method, { teacher: 'none', select: 'random' });
      const random = JSON.parse(readFileSync(join(out, 'random-search.json'), 'utf8'));
      assert.equal(random.scored, 8);
      assert.equal(random.scored, readFileSync(join(out, CANDIDATES_FILE), 'utf8').trim().split('\n').length);
      assert.ok(existsSync(join(out, 'paths.png')));
      const bad = spawnSync(process.execPath, [CLI, 'search', '--config', CONFIG, '--method', 'darts'], {
        encoding: 'utf8',
      });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--method: expected cream, spos-evolution, random, got "darts"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
