// The ablation experiment end to end on real data, shrunk to seconds: two rows, one seed, a tiny
// space; the rank set-up shares one from-scratch ground truth between rows, the table holds what
// the cells measured, and running it again reads every piece back instead of recomputing it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { FASHION_MNIST_DIR } from '../../src/data/index.ts';
import { ablationMarkdown, runAblation, stat } from '../../src/eval/ablation.ts';
import { AblationConfigError, validateAblationConfig } from '../../src/eval/ablation-config.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const haveData = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
const skip = haveData ? false : `Fashion-MNIST is not installed (${FASHION_MNIST_DIR})`;

const tinyRetrain = {
  seed: 0,
  data: { dataset: 'fashion-mnist', train: 1280, val: 500, workers: 0 },
  train: { epochs: 1, batchSize: 64, lrPer1024: 0.064, warmupEpochs: 0.2 },
  ema: { decay: 0, warmup: false },
  augment: { randAugment: null, erasing: null },
  eval: { batchSize: 250, everyEpochs: 1000, raw: false },
  checkpoint: { everySteps: 5 },
};

describe('cream experiment ablation', { skip }, () => {
  test('two rows, one seed: cells, shared scratch ground truth, table, and a rerun that recomputes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cream-ablation-'));
    try {
      writeFileSync(join(dir, 'scratch.yaml'), toYaml(tinyRetrain));
      const config = validateAblationConfig({
        search: join(root, 'test/fixtures/search/tiny-search.yaml'),
        overrides: {
          'data.train': 1280,
          'train.epochs': 2,
          'select.evalImages': 500,
          'select.evolution': { population: 4, iterations: 2, topK: 2, mutations: 1, crossovers: 1 },
        },
        rows: ['spos-evolution', 'spos-board', 'meta'],
        seeds: [1],
        rank: { n: 3, seed: 0, scratch: join(dir, 'scratch.yaml') },
        retrain: join(dir, 'scratch.yaml'),
      });
      const out = join(dir, 'exp');
      const phases: string[] = [];
      const logs: string[] = [];
      const r = await runAblation(config, out, { onPhase: (what) => phases.push(what), onLog: (m) => logs.push(m) });
      assert.equal(r.cells.length, 3);
      assert.deepEqual(
        r.cells.map((c) => c.row),
        ['spos-evolution', 'spos-board', 'meta'],
        'cells in the order of the rows',
      );
      assert.equal(phases.filter((p) => p.startsWith('from-scratch network')).length, 3, 'ground truth trained once');
      for (const c of r.cells) {
        const best = JSON.parse(readFileSync(join(c.dir, 'best.json'), 'utf8'));
        assert.deepEqual(c.arch, best.arch);
        assert.equal(c.supernetTop1, best.validationAccuracy);
        const rank = JSON.parse(readFileSync(join(c.dir, 'rank', 'rank.json'), 'utf8'));
        assert.equal(c.kendallTau, rank.kendallTau);
        const retrain = JSON.parse(readFileSync(join(c.dir, 'retrain', 'result.json'), 'utf8'));
        assert.equal(c.retrainTestTop1, retrain.ema.test.top1);
      }
      const [evolution, spos, meta] = r.cells;
      // The evolution row searched the supernet that the board row trained: same training log.
      assert.ok(logs.some((l) => l.startsWith('spos-evolution seed 1: reusing the supernet trained in')));
      assert.equal(
        readFileSync(join(evolution.dir, 'metrics.jsonl'), 'utf8'),
        readFileSync(join(spos.dir, 'metrics.jsonl'), 'utf8'),
      );
      assert.ok(existsSync(join(evolution.dir, 'evolution.json')));
      assert.equal(JSON.parse(readFileSync(join(spos.dir, 'best.json'), 'utf8')).method.teacher, 'none');
      assert.equal(JSON.parse(readFileSync(join(meta.dir, 'best.json'), 'utf8')).method.teacher, 'meta');
      const scratchSpos = JSON.parse(readFileSync(join(spos.dir, 'rank', 'rank.json'), 'utf8')).pairs;
      const scratchMeta = JSON.parse(readFileSync(join(meta.dir, 'rank', 'rank.json'), 'utf8')).pairs;
      assert.deepEqual(
        scratchSpos.map((p: { scratchTop1: number }) => p.scratchTop1),
        scratchMeta.map((p: { scratchTop1: number }) => p.scratchTop1),
        'both rows are ranked against the same ground truth',
      );
      const md = ablationMarkdown(r);
      assert.match(md, /\| meta \| meta-matched distillation \(Cream\) \|/);
      assert.ok(md.includes(`${(100 * meta.supernetTop1).toFixed(2)} ± 0.00`));

      const again: string[] = [];
      const r2 = await runAblation(config, out, { onPhase: (what) => again.push(what) });
      assert.deepEqual(again, [], 'every piece is read back');
      assert.deepEqual(r2.summary, r.summary);

      const other = validateAblationConfig({ ...config, overrides: { ...config.overrides, 'train.lr': 0.1 } });
      await assert.rejects(runAblation(other, out), {
        name: 'ConfigError',
        message: /spos-board[/\\]seed-1[/\\]config.resolved.yaml holds other settings than this experiment asks for/,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('config errors name the key; stat gives mean and sample sd', () => {
    assert.throws(() => validateAblationConfig({ rows: ['meta', 'darts'] }), /rows/);
    assert.throws(() => validateAblationConfig({ seeds: [0, 0] }), AblationConfigError);
    assert.throws(() => validateAblationConfig({ rank: { n: 1 } }), /rank\.n/);
    assert.throws(() => validateAblationConfig({ color: 'red' }), /color/);
    assert.deepEqual(stat([1, 2, 3, null]), { mean: 2, sd: 1, n: 3 });
    assert.equal(stat([null, Number.NaN]), null);
  });
});
