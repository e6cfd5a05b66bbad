// The rank experiment end to end on real data: a 20-step Cream search in the tiny28 space, then
// architectures scored by its supernet and by (very short) training from scratch, with the
// scratch-accuracy cache reused across runs and a network killed mid-training resumed exactly.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify as toYaml } from 'yaml';
import { recalibratedPathAccuracy } from '../../src/cream/path-evaluator.ts';
import { openSearchRun } from '../../src/cream/search-run.ts';
import { CHECKPOINT_FILE } from '../../src/cream/search-trainer.ts';
import { FASHION_MNIST_DIR } from '../../src/data/index.ts';
import { kendallTau, spearmanRho } from '../../src/eval/rank-correlation.ts';
import {
  type RankResult,
  runRankExperiment,
  sampleDistinctArchs,
  writeRankReport,
} from '../../src/eval/rank-experiment.ts';
import { type ScratchNetworkStart, scratchAccuracies } from '../../src/eval/scratch-accuracy.ts';
import { RunFolder } from '../../src/io/run-folder.ts';
import { loadRetrainConfigFile } from '../../src/retrain/retrain-config.ts';
import {
  ArchSampler,
  canonicalArch,
  costTable,
  countNetworks,
  formatArchCompact,
  loadSpace,
  Mulberry32,
} from '../../src/space/index.ts';
import { makeTinySearchRun, TINY_SCRATCH_CONFIG } from '../helpers/tiny-search-run.ts';

const haveData = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
const skip = haveData ? false : `Fashion-MNIST is not installed (${FASHION_MNIST_DIR})`;

/** Counts what a run trains: networks started from scratch and training steps. */
function counter() {
  const c = { started: [] as ScratchNetworkStart[], steps: 0 };
  return {
    c,
    events: { onNetworkStart: (e: ScratchNetworkStart) => c.started.push(e), onStep: () => void c.steps++ },
  };
}

/** NaN in a result is null in rank.json. */
const asJson = (v: number) => (Number.isFinite(v) ? v : null);

describe('cream rank experiment on a tiny search', { skip }, () => {
  const base = mkdtempSync(join(tmpdir(), 'cream-rank-'));
  const searchDir = join(base, 'search');
  const scratch = loadRetrainConfigFile(TINY_SCRATCH_CONFIG);
  before(async () => {
    await makeTinySearchRun(searchDir);
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  test('n = 2 then n = 4 then n = 4 again: files, correlations, and the cache trains each network once', async () => {
    const cachePath = join(base, 'shared', 'scratch.json');
    const run = (n: number, events: object) =>
      runRankExperiment({ searchRun: searchDir, n, seed: 0, scratchConfig: scratch, cachePath, events });

    const a = counter();
    const first = await run(2, a.events);
    assert.equal(first.trained, 2);
    assert.equal(first.reused, 0);
    assert.ok(a.c.steps >= 2 * 8, `${a.c.steps} training steps for two networks of 8 steps`);

    // The same seed draws the same first two architectures: only the two new ones are trained.
    const b = counter();
    const second = await run(4, b.events);
    assert.deepEqual(
      second.pairs.slice(0, 2).map((p) => p.arch),
      first.pairs.map((p) => p.arch),
    );
    assert.deepEqual(
      second.pairs.slice(0, 2).map((p) => p.scratchTop1),
      first.pairs.map((p) => p.scratchTop1),
    );
    assert.equal(second.trained, 2);
    assert.equal(second.reused, 2);
    assert.deepEqual(
      b.c.started.map((e) => e.cached),
      [true, true, false, false],
    );

    const out = new RunFolder(join(base, 'rank'));
    writeRankReport(out, second);
    const saved = JSON.parse(out.readText('rank.json')) as RankResult;
    assert.equal(saved.n, 4);
    assert.equal(saved.seed, 0);
    assert.equal(saved.pairs.length, 4);
    assert.equal(saved.scratchConfig.space, first.scratchConfig.space);
    const x = saved.pairs.map((p) => p.supernetTop1);
    const y = saved.pairs.map((p) => p.scratchTop1);
    assert.equal(saved.kendallTau, asJson(kendallTau(x, y)));
    assert.equal(saved.spearmanRho, asJson(spearmanRho(x, y)));
    assert.equal(saved.kendallTau, asJson(second.kendallTau));
    for (const name of ['rank.png', 'rank.svg']) assert.ok(out.exists(name), `${name} written`);
    assert.deepEqual([...readFileSync(out.path('rank.png')).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.match(out.readText('rank.svg'), /Kendall tau-b/);

    // Distinct networks, all within the search's budget, with their cost.
    const space = loadSpace(saved.scratchConfig.space!);
    const table = costTable(space);
    const keys = new Set(saved.pairs.map((p) => formatArchCompact(canonicalArch(space, p.arch))));
    assert.equal(keys.size, 4);
    for (const p of saved.pairs) {
      assert.equal(p.flops, table.pathMacs(p.arch));
      assert.ok(p.flops >= saved.budget.minMacs && p.flops <= saved.budget.maxMacs);
      for (const v of [p.supernetTop1, p.scratchTop1]) assert.ok(v >= 0 && v <= 1);
    }

    // The supernet score is the search's own judgement of a path: re-calibrated BN, validation split.
    const opened = openSearchRun(searchDir);
    try {
      const { calibration, evaluation } = opened.search.selectionBatches();
      const again = recalibratedPathAccuracy(opened.search.supernet, saved.pairs[3].arch, calibration, evaluation);
      assert.equal(again.top1, saved.pairs[3].supernetTop1);
    } finally {
      opened.search.dispose();
    }

    // The cache holds the four results under one config key, and nothing is left in its work folder.
    const cache = JSON.parse(readFileSync(cachePath, 'utf8'));
    const entries = cache.results[second.scratchConfigKey];
    assert.equal(Object.keys(entries).length, 4);
    for (const p of saved.pairs) {
      assert.equal(entries[formatArchCompact(canonicalArch(space, p.arch))].valTop1, p.scratchTop1);
    }
    assert.ok(!existsSync(`${cachePath}.work`), 'the work folder is removed once every network is done');

    // A third run trains nothing at all.
    const c = counter();
    const third = await run(4, c.events);
    assert.equal(third.trained, 0);
    assert.equal(third.reused, 4);
    assert.equal(c.c.steps, 0);
    assert.ok(c.c.started.every((e) => e.cached));
    assert.deepEqual(third.pairs, second.pairs);
  });

  test('a network killed mid-training resumes from its checkpoint and ends as an uninterrupted one', async () => {
    const archs = [
      [
        ['k3e4', 'k5e2'],
        ['k3e4', 'k3e2'],
      ],
    ];
    const killedCache = join(base, 'killed.json');
    await assert.rejects(
      scratchAccuracies({
        archs,
        config: { ...scratch, space: openSpace() },
        cachePath: killedCache,
        events: {
          onStep: (step) => {
            if (step === 5) throw new Error('killed at step 5');
          },
        },
      }),
      /killed at step 5/,
    );
    assert.ok(!existsSync(killedCache), 'no result is cached for an unfinished network');
    const resumed = counter();
    const r = await scratchAccuracies({
      archs,
      config: { ...scratch, space: openSpace() },
      cachePath: killedCache,
      events: resumed.events,
    });
    assert.equal(resumed.c.started[0].resumedAtStep, 3, 'resumed at the last checkpoint (every 3 steps)');
    assert.equal(resumed.c.steps, 8 - 3);
    const straight = await scratchAccuracies({
      archs,
      config: { ...scratch, space: openSpace() },
      cachePath: join(base, 'straight.json'),
    });
    assert.equal(r.results[0].valTop1, straight.results[0].valTop1);
    assert.equal(r.results[0].valLoss, straight.results[0].valLoss);
    assert.equal(r.trained, 1);
  });

  test('bad input: n < 2, more architectures than the budget holds, broken run folders and cache', async () => {
    const cachePath = join(base, 'bad-cache.json');
    await assert.rejects(
      runRankExperiment({ searchRun: searchDir, n: 1, scratchConfig: scratch, cachePath }),
      /n must be an integer of at least 2, got 1/,
    );
    const space = loadSpace(openSpace());
    const all = Number(countNetworks(space));
    await assert.rejects(
      runRankExperiment({ searchRun: searchDir, n: all + 1, scratchConfig: scratch, cachePath }),
      new RegExp(`n = ${all + 1} distinct architectures asked, but space .* builds only ${all}`),
    );
    // A narrow budget holds far fewer networks than the space: the sampler's draws stop bringing new ones.
    const { min, max } = costTable(space).macsRange();
    const narrow = new ArchSampler(space, { maxMacs: min + 0.1 * (max - min) });
    assert.throws(
      () => sampleDistinctArchs(narrow, all, new Mulberry32(0)),
      /only \d+ distinct architectures within \[.*\] MACs turned up in [\d,]+ draws .*ask for fewer than n = \d+/,
    );
    assert.ok(!existsSync(cachePath));

    const missing = join(base, 'nowhere');
    assert.throws(() => openSearchRun(missing), new RegExp(`search run ${missing}: no such folder`));
    const noCheckpoint = join(base, 'no-checkpoint');
    mkdirSync(noCheckpoint);
    copyFileSync(join(searchDir, 'config.resolved.yaml'), join(noCheckpoint, 'config.resolved.yaml'));
    assert.throws(
      () => openSearchRun(noCheckpoint),
      (e: Error) =>
        e.name === 'CheckpointError' &&
        e.message.includes(join(noCheckpoint, CHECKPOINT_FILE)) &&
        /no such file/.test(e.message),
    );
    const truncated = join(base, 'truncated');
    mkdirSync(truncated);
    copyFileSync(join(searchDir, 'config.resolved.yaml'), join(truncated, 'config.resolved.yaml'));
    const bytes = readFileSync(join(searchDir, CHECKPOINT_FILE));
    writeFileSync(join(truncated, CHECKPOINT_FILE), bytes.subarray(0, bytes.length >> 1));
    assert.throws(
      () => openSearchRun(truncated),
      (e: Error) => e.message.includes(join(truncated, CHECKPOINT_FILE)) && !e.message.includes('\n'),
    );
    const foreign = join(base, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'config.resolved.yaml'), toYaml({ arch: [['k3e4']], ema: { decay: 0.9 } }));
    assert.throws(
      () => openSearchRun(foreign),
      (e: Error) =>
        e.name === 'ConfigError' &&
        /not a search run's config/.test(e.message) &&
        e.message.includes(join(foreign, 'config.resolved.yaml')),
    );
    // The checkpoint of another space: the same config naming the (wider) fmnist space.
    const otherSpace = join(base, 'other-space');
    mkdirSync(otherSpace);
    const config = readFileSync(join(searchDir, 'config.resolved.yaml'), 'utf8').replace(
      /^space: .*$/m,
      'space: fmnist',
    );
    writeFileSync(join(otherSpace, 'config.resolved.yaml'), config);
    copyFileSync(join(searchDir, CHECKPOINT_FILE), join(otherSpace, CHECKPOINT_FILE));
    assert.throws(
      () => openSearchRun(otherSpace),
      (e: Error) =>
        e.name === 'CheckpointError' &&
        e.message.includes(join(otherSpace, CHECKPOINT_FILE)) &&
        /do not fit the supernet of space fmnist/.test(e.message),
    );
    // A cache file that is not one is refused, and left as it was.
    const notCache = join(base, 'not-a-cache.json');
    writeFileSync(notCache, '{"hello": 1}');
    await assert.rejects(
      scratchAccuracies({
        archs: [
          [
            ['k3e4', 'k5e2'],
            ['k3e4', 'k3e2'],
          ],
        ],
        config: { ...scratch, space: openSpace() },
        cachePath: notCache,
      }),
      /not-a-cache\.json: not a scratch-accuracy cache/,
    );
    assert.equal(readFileSync(notCache, 'utf8'), '{"hello": 1}');
  });

  /** The space file the tiny search ran in. */
  function openSpace(): string {
    const yaml = readFileSync(join(searchDir, 'config.resolved.yaml'), 'utf8');
    return /^space: (.*)$/m.exec(yaml)![1].trim();
  }
});
