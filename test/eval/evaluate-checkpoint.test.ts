// evaluateCheckpoint and the model file it reads: what gets loaded (final weights, or the EMA group
// of a mid-run checkpoint), FLOPs/params/latency reported, and clear errors for a file of another
// architecture, a search checkpoint, a truncated file, and data that are not the recorded split.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FASHION_MNIST_DIR } from '../../src/data/index.ts';
import { evaluateCheckpoint } from '../../src/eval/evaluate-checkpoint.ts';
import { measureLatency } from '../../src/eval/latency.ts';
import { ChildNetwork } from '../../src/models/index.ts';
import { InitRandom } from '../../src/nn/index.ts';
import { loadModelFile } from '../../src/retrain/model-file.ts';
import { childCost, loadSpace } from '../../src/space/index.ts';
import { getThreads } from '../../src/tensor/index.ts';
import { tinyConfig, tinyDescription, writeModelFile } from '../retrain/helpers.ts';

const haveData = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
const skip = haveData ? false : `Fashion-MNIST is not installed (${FASHION_MNIST_DIR})`;

describe('measureLatency', () => {
  test('median of the timed runs on one thread; the thread count is restored', () => {
    const space = loadSpace(tinyConfig().space!);
    const net = new ChildNetwork(space, tinyConfig().arch!, new InitRandom(2)).eval();
    const before = getThreads();
    const r = measureLatency((x) => net.forward(x), [1, 28, 28, 1], { runs: 15, warmup: 2 });
    assert.equal(getThreads(), before);
    assert.equal(r.runs, 15);
    assert.equal(r.threads, 1);
    assert.ok(r.minMs > 0 && r.minMs <= r.medianMs && r.medianMs <= r.p90Ms, JSON.stringify(r));
    assert.throws(
      () => measureLatency((x) => net.forward(x), [1, 28, 28, 1], { runs: 0 }),
      /runs must be an integer >= 1/,
    );
    net.dispose();
  });
});

describe('evaluateCheckpoint', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cream-evalckpt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const config = tinyConfig();

  test('a final file: test split, FLOPs and params of its architecture, latency', () => {
    const file = join(dir, 'final.safetensors');
    writeModelFile(file);
    const e = evaluateCheckpoint(file, { latencyRuns: 10, latencyWarmup: 1 });
    const cost = childCost(loadSpace(config.space!), config.arch!);
    assert.equal(e.weights, 'model');
    assert.equal(e.split, 'test');
    assert.equal(e.images, 1000);
    assert.equal(e.flops, cost.macs);
    assert.equal(e.params, cost.params);
    assert.deepEqual(e.arch, config.arch);
    assert.ok(e.top1 >= 0 && e.top1 <= e.top5 && e.top5 <= 1);
    assert.equal(e.latency?.runs, 10);
    // A run folder resolves to its final.safetensors.
    assert.equal(evaluateCheckpoint(dir, { latencyRuns: 0, split: 'val' }).images, 1000);
  });

  test('a mid-run checkpoint is evaluated with its EMA weights', () => {
    const file = join(dir, 'mid.safetensors');
    writeModelFile(file, { kind: 'checkpoint' });
    const loaded = loadModelFile(file);
    assert.equal(loaded.weights, 'ema');
    const emaNet = new ChildNetwork(loadSpace(config.space!), config.arch!, new InitRandom(101));
    assert.deepEqual(
      loaded.network.stateDict().get('stem.conv.weight')?.f32,
      emaNet.stateDict().get('stem.conv.weight')?.f32,
    );
    emaNet.dispose();
    loaded.network.dispose();
  });

  test('tensors of another architecture: the first mismatches are listed', () => {
    const file = join(dir, 'other.safetensors');
    writeModelFile(file, { weightsArch: [['k5e2'], ['k3e2', 'k3e4']] });
    assert.throws(
      () => evaluateCheckpoint(file, { latencyRuns: 0 }),
      (err: Error) =>
        err.name === 'CheckpointError' &&
        /tensors of group "model" do not fit the network of architecture/.test(err.message) &&
        /blocks\.1\.0\.conv_dw\.weight: expected shape \[3, 3, 32\], got \[5, 5, 16\]/.test(err.message) &&
        /\(and \d+ more\)$/.test(err.message),
    );
  });

  test('a checkpoint without a model description (e.g. a search checkpoint) is refused', () => {
    const file = join(dir, 'search.safetensors');
    writeModelFile(file, { description: null });
    assert.throws(() => evaluateCheckpoint(file, { latencyRuns: 0 }), /not a retrained network/);
  });

  test('a truncated file: an error naming the file', () => {
    const good = join(dir, 'final.safetensors');
    const cut = join(dir, 'cut.safetensors');
    const bytes = readFileSync(good);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    assert.throws(
      () => evaluateCheckpoint(cut, { latencyRuns: 0 }),
      (err: Error) => err.name === 'SafetensorsError' && err.message.includes(cut),
    );
    assert.throws(
      () => evaluateCheckpoint(join(dir, 'nothing-here'), { latencyRuns: 0 }),
      /no checkpoint file or run folder/,
    );
  });

  test('data that do not give the recorded split are refused', () => {
    const d = tinyDescription();
    d.split.subsets.test.sha256 = '0'.repeat(64);
    const file = join(dir, 'moved.safetensors');
    writeModelFile(file, { description: d });
    assert.throws(
      () => evaluateCheckpoint(file, { latencyRuns: 0 }),
      /data split differs from the recorded one: subsets\.test\.sha256/,
    );
  });
});
