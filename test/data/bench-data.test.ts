import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { measureData } from '../../src/cli/bench-data.ts';
import { FIXTURES } from './helpers.ts';

test('bench data measures the loader (on the Fashion-MNIST-like fixture)', async () => {
  const dataDir = join(FIXTURES, 'idx', 'fashion-like');
  for (const workers of [0, 1]) {
    const result = await measureData({ json: true, batch: 16, seconds: 0.2, workers, dataDir, augment: 'retrain' });
    assert.equal(result.bench, 'data');
    assert.equal(result.batch, 16);
    assert.equal(result.workers, workers);
    assert.ok(result.imagesPerSecond > 0);
  }
});
