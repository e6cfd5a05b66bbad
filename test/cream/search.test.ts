// End to end on real data: a tiny Cream search on Fashion-MNIST, and a run killed with SIGKILL
// and resumed that must end with the same board as an uninterrupted one.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { recalibratedPathAccuracy } from '../../src/cream/path-evaluator.ts';
import { loadSearchConfigFile } from '../../src/cream/search-config.ts';
import { CHECKPOINT_FILE, CreamSearch } from '../../src/cream/search-trainer.ts';
import { evalBatches, FASHION_MNIST_DIR } from '../../src/data/index.ts';
import { RunFolder } from '../../src/io/run-folder.ts';
import { Mulberry32 } from '../../src/space/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(root, 'test/fixtures/search/tiny-search.yaml');
const CLI = join(root, 'bin/cream.mjs');
const haveData = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
const skip = haveData ? false : `Fashion-MNIST is not installed (${FASHION_MNIST_DIR})`;

describe('cream search on Fashion-MNIST', { skip }, () => {
  test('fills the board within budget and picks a path that beats random ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cream-search-'));
    try {
      const config = loadSearchConfigFile(CONFIG);
      const search = new CreamSearch(config, new RunFolder(dir));
      await search.train();
      const entries = search.board.entries();
      assert.equal(entries.length, config.board.size, 'board is full');
      for (const e of entries)
        assert.ok(search.sampler.fits(e.arch), `board path ${JSON.stringify(e.arch)} is out of budget`);
      const result = search.select();
      assert.equal(result.candidates.length, entries.length);
      // Random paths of the same budget, judged the same way (BN re-calibrated, validation split).
      const val = search.data.splits.val;
      const evaluation = [...evalBatches(val, { batchSize: 256, normalize: search.data.normalize })];
      const calibration = [
        ...evalBatches(
          { dataset: search.data.splits.train.dataset, indices: search.data.splits.train.indices.slice(0, 5 * 64) },
          { batchSize: 64, normalize: search.data.normalize },
        ),
      ];
      const rng = new Mulberry32(99);
      const randomAccuracies = [0, 1, 2].map(
        () => recalibratedPathAccuracy(search.supernet, search.sampler.sample(rng), calibration, evaluation).top1,
      );
      const meanRandom = randomAccuracies.reduce((a, b) => a + b, 0) / randomAccuracies.length;
      assert.ok(
        result.best.validationAccuracy > meanRandom,
        `best ${result.best.validationAccuracy} does not beat random paths ${randomAccuracies.join(', ')}`,
      );
      assert.ok(result.best.validationAccuracy > 0.5, `best path only reaches ${result.best.validationAccuracy}`);
      search.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad input: a budget outside the space, a dataset that does not fit the space, a diverging loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cream-bad-'));
    try {
      const base = loadSearchConfigFile(CONFIG);
      assert.throws(
        () => new CreamSearch({ ...base, budget: { maxFlops: 1000 } }, new RunFolder(join(dir, 'a'))),
        /300,?656|smallest|min/i,
      );
      assert.throws(
        () => new CreamSearch({ ...base, space: 'imagenet' }, new RunFolder(join(dir, 'b'))),
        /dataset fashion-mnist has 28x28x1 images, but space imagenet expects 224x224x3/,
      );
      const diverging = { ...base, train: { ...base.train, lr: 1e30, epochs: 2 }, checkpoint: { everySteps: 1 } };
      const search = new CreamSearch(diverging, new RunFolder(join(dir, 'c')));
      await assert.rejects(
        search.train(),
        /(loss|weight .*) became (NaN|Infinity|-Infinity) (at|by) step \d+.*the last good checkpoint is step \d+/,
      );
      assert.ok(existsSync(join(dir, 'c', CHECKPOINT_FILE)), 'the last good checkpoint is kept');
      search.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a run killed with SIGKILL and resumed ends with the same board', async () => {
    const base = mkdtempSync(join(tmpdir(), 'cream-resume-'));
    const cli = (args: string[]) => ['--', CLI, 'search', '--config', CONFIG, '--quiet', ...args];
    try {
      const straight = join(base, 'straight');
      const killed = join(base, 'killed');
      const full = spawnSync(process.execPath, cli(['--out', straight]).slice(1), { cwd: root, encoding: 'utf8' });
      assert.equal(full.status, 0, full.stderr);

      const child = spawn(process.execPath, cli(['--out', killed]).slice(1), { cwd: root, stdio: 'ignore' });
      // Kill as soon as the first checkpoint exists (mid-run, not at an epoch end).
      const ckpt = join(killed, CHECKPOINT_FILE);
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (existsSync(ckpt)) {
            clearInterval(timer);
            child.kill('SIGKILL');
            resolve();
          }
        }, 20);
        child.on('exit', () => {
          clearInterval(timer);
          reject(new Error('the run finished before it could be killed'));
        });
      });
      const resumed = spawnSync(process.execPath, ['--', CLI, 'search', '--resume', killed, '--quiet'].slice(1), {
        cwd: root,
        encoding: 'utf8',
      });
      assert.equal(resumed.status, 0, resumed.stderr);
      const board = (dir: string) => JSON.parse(readFileSync(join(dir, 'board.json'), 'utf8'));
      assert.deepEqual(board(killed).board.entries, board(straight).board.entries);
      assert.deepEqual(board(killed).candidates, board(straight).candidates);
      const steps = (dir: string) =>
        readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).step);
      assert.deepEqual(steps(killed), steps(straight), 'metrics.jsonl has each step once');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
