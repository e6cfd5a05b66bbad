// `cream bench train-step` without PyTorch: the rounds are run and reported (speed targets are
// measured by the benchmark itself, never asserted here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PATHS_FILE, runTrainStepBench } from '../../bench/train-step.ts';

test('bench train-step reports every round and the median-speed round', async () => {
  const r = await runTrainStepBench({
    space: 'fmnist',
    pathsFile: DEFAULT_PATHS_FILE,
    path: 'small',
    batch: 8,
    warmup: 1,
    steps: 2,
    rounds: 3,
    torch: false,
  });
  assert.equal(r.rounds.length, 3);
  assert.ok(r.rounds.every((x) => x.imagesPerSecond > 0 && x.ratio === null && x.torchImagesPerSecond === null));
  const speeds = r.rounds.map((x) => x.imagesPerSecond).sort((a, b) => a - b);
  assert.equal(r.imagesPerSecond, speeds[1]);
  assert.ok(Math.abs(r.medianStepMs - (8 * 1000) / r.imagesPerSecond) < 1e-9);
  assert.equal(r.ratio, null);
  assert.equal(r.torchPeakRssBytes, null);
  assert.deepEqual(r.torchSelection, []);
});

test('bench train-step names an unknown path and lists the known ones', async () => {
  await assert.rejects(
    () =>
      runTrainStepBench({
        space: 'fmnist',
        pathsFile: DEFAULT_PATHS_FILE,
        path: 'huge',
        batch: 8,
        warmup: 0,
        steps: 1,
        rounds: 1,
        torch: false,
      }),
    /no path named huge \(paths: large, mid, small\)/,
  );
});
