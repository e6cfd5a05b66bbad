import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AugmentOptions } from '../../src/data/augment.ts';
import { epochOrder } from '../../src/data/batch.ts';
import { evalBatchCount, evalBatches } from '../../src/data/eval-batches.ts';
import { BatchLoader, type LoadedBatch } from '../../src/data/loader.ts';
import { makeSplits } from '../../src/data/split.ts';
import { syntheticDataset } from './helpers.ts';

const pool = syntheticDataset([120, 90, 60], 8, 7, 1);
const splits = makeSplits({ train: pool }, { seed: 3, val: 30, valSubset: 10, test: 30 });
const augment: AugmentOptions = {
  normalize: { mean: [0.5], std: [0.3] },
  cropPadding: 2,
  flip: true,
  randAugment: { ops: 2, magnitude: 9, magnitudeStd: 0.5 },
  erasing: { probability: 0.5 },
};

async function take(loader: BatchLoader, n: number): Promise<LoadedBatch[]> {
  const out: LoadedBatch[] = [];
  for (let i = 0; i < n; i++) out.push(await loader.next());
  return out;
}

function assertSameBatches(a: LoadedBatch[], b: LoadedBatch[]): void {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => {
    assert.equal(x.epoch, b[i].epoch);
    assert.equal(x.batchIndex, b[i].batchIndex);
    assert.deepEqual(x.labels, b[i].labels, `labels of batch ${i}`);
    assert.deepEqual(x.images, b[i].images, `images of batch ${i}`);
  });
}

test('epoch order depends only on seed and epoch', () => {
  assert.deepEqual(epochOrder(1, 4, 100), epochOrder(1, 4, 100));
  assert.notDeepEqual(epochOrder(1, 4, 100), epochOrder(1, 5, 100));
  assert.notDeepEqual(epochOrder(1, 4, 100), epochOrder(2, 4, 100));
  assert.deepEqual(
    Array.from(epochOrder(1, 4, 100)).sort((x, y) => x - y),
    Array.from({ length: 100 }, (_, i) => i),
  );
});

test('batches from 2 workers equal batches built in-thread, across epoch boundaries', async () => {
  const common = { subset: splits.train, batchSize: 32, seed: 11, augment };
  const inThread = new BatchLoader({ ...common, workers: 0 });
  const pooled = new BatchLoader({ ...common, workers: 2, prefetch: 3 });
  try {
    assert.equal(inThread.batchesPerEpoch, Math.floor(210 / 32));
    const n = 2 * inThread.batchesPerEpoch + 3;
    const [a, b] = await Promise.all([take(inThread, n), take(pooled, n)]);
    assertSameBatches(a, b);
    assert.deepEqual(pooled.position, { epoch: 2, batchIndex: 3 });
    const first = a[0];
    assert.equal(first.size, 32);
    assert.equal(first.images.length, 32 * 8 * 7);
    assert.deepEqual([first.height, first.width, first.channels], [8, 7, 1]);
    assert.ok(first.images instanceof Float32Array && first.labels instanceof Int32Array);
  } finally {
    await Promise.all([inThread.close(), pooled.close()]);
  }
});

test('a loader restarted at a saved position continues with the same batches', async () => {
  const common = { subset: splits.train, batchSize: 16, seed: 5, augment, workers: 1 };
  const full = new BatchLoader(common);
  const all = await take(full, 20);
  await full.close();
  const position = all[13];
  const resumed = new BatchLoader({ ...common, start: { epoch: position.epoch, batchIndex: position.batchIndex } });
  assertSameBatches(await take(resumed, 7), all.slice(13));
  // seek() backwards discards prefetched batches and replays.
  resumed.seek({ epoch: 0, batchIndex: 2 });
  assertSameBatches(await take(resumed, 3), all.slice(2, 5));
  await resumed.close();
  assert.throws(() => resumed.seek({ epoch: 0, batchIndex: 99 }), /batchIndex must be in 0\.\.12/);
  await assert.rejects(resumed.next(), /closed/);
});

test('an epoch visits every image once; epochBatches stops at the epoch end', async () => {
  const loader = new BatchLoader({
    subset: splits.train,
    batchSize: 50,
    seed: 1,
    augment,
    workers: 0,
    dropLast: false,
  });
  const labels: number[] = [];
  let batches = 0;
  for await (const batch of loader.epochBatches()) {
    labels.push(...batch.labels);
    batches++;
  }
  assert.equal(batches, 5); // 210 images: four of 50 and one of 10
  assert.equal(labels.length, 210);
  const expected = Array.from(splits.train.indices, (i) => pool.labels[i]).sort();
  assert.deepEqual(labels.sort(), expected);
  assert.deepEqual(loader.position, { epoch: 1, batchIndex: 0 });
  await loader.close();
});

test('evaluation batches: fixed order, normalised only, last batch partial', () => {
  const normalize = { mean: [0.5], std: [0.3] };
  const batches = [...evalBatches(splits.valSubset, { batchSize: 4, normalize })];
  assert.equal(batches.length, evalBatchCount(splits.valSubset, 4));
  assert.deepEqual(
    batches.map((b) => b.size),
    [4, 4, 2],
  );
  const first = splits.valSubset.indices[0];
  assert.equal(batches[0].labels[0], pool.labels[first]);
  assert.equal(batches[0].images[5], Math.fround((pool.images[first * 56 + 5] / 255 - 0.5) / 0.3));
  assert.deepEqual([...evalBatches(splits.valSubset, { batchSize: 4, normalize })], batches);
});

// Runs loader-exit-child.ts, which uses a worker loader with or without close(); it must exit.
function childExits(closeIt: boolean): { status: number | null; stderr: string; ms: number } {
  const child = fileURLToPath(new URL('./loader-exit-child.ts', import.meta.url));
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', child, closeIt ? 'close' : 'forget'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    timeout: 20000,
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr, ms: Date.now() - t0 };
}

test('a process using worker loaders exits cleanly, with close() and without', () => {
  for (const closeIt of [true, false]) {
    const r = childExits(closeIt);
    assert.equal(r.status, 0, `close=${closeIt}: exit status ${r.status} after ${r.ms} ms\n${r.stderr}`);
    assert.ok(r.ms < 15000);
  }
});
