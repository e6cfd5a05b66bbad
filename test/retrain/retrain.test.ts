// End to end on real data: a tiny architecture retrained on 2,000 Fashion-MNIST images for three
// epochs through the CLI (run folder, metrics, plots, final.safetensors), a run killed with
// SIGKILL mid-epoch and resumed that must end bit-identical to the uninterrupted one, and
// `cream eval` on the produced folder and file. One kernel thread, so float sums are deterministic.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { FASHION_MNIST_DIR } from '../../src/data/index.ts';
import { loadModelFile } from '../../src/retrain/model-file.ts';
import type { RetrainMetrics, RetrainResult } from '../../src/retrain/retrain-trainer.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(root, 'test/retrain/fixtures/tiny-retrain.yaml');
const CLI = join(root, 'bin/cream.mjs');
const haveData = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
const skip = haveData ? false : `Fashion-MNIST is not installed (${FASHION_MNIST_DIR})`;
const ARCH = [
  ['k3e4', 'k5e2'],
  ['k3e4', 'k3e2'],
];

const cream = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8' });
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const metrics = (dir: string): RetrainMetrics[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RetrainMetrics);
/** Metrics without the wall-clock fields. */
const timeless = (rows: RetrainMetrics[]) =>
  rows.map((r) => {
    const { ...copy } = r as unknown as Record<string, unknown>;
    delete copy.imagesPerSecond;
    delete copy.seconds;
    return copy;
  });

describe('cream retrain on Fashion-MNIST', { skip }, () => {
  const base = mkdtempSync(join(tmpdir(), 'cream-retrain-'));
  const straight = join(base, 'straight');
  after(() => rmSync(base, { recursive: true, force: true }));

  test('a tiny architecture trains well above chance; the run folder holds every output', () => {
    const run = cream(['retrain', '--config', CONFIG, '--out', straight, '--quiet']);
    assert.equal(run.status, 0, run.stderr);
    for (const f of [
      'config.resolved.yaml',
      'metrics.jsonl',
      'checkpoint.safetensors',
      'final.safetensors',
      'result.json',
    ]) {
      assert.ok(existsSync(join(straight, f)), `${f} is missing`);
    }
    for (const f of ['training.png', 'training.svg', 'accuracy.png', 'accuracy.svg'])
      assert.ok(existsSync(join(straight, f)), f);
    const resolved = parseYaml(readFileSync(join(straight, 'config.resolved.yaml'), 'utf8'));
    assert.deepEqual(resolved.arch, ARCH);
    assert.match(resolved.space, /tiny28-space\.yaml$/);

    const result = readJson<RetrainResult>(join(straight, 'result.json'));
    // 10 classes: chance is 10%. Measured: 68.7% test top-1 for the EMA weights (71.2% validation).
    assert.ok(result.ema.test.top1 > 0.55, `EMA test top-1 only ${result.ema.test.top1}`);
    assert.ok(result.ema.val.top1 > 0.55, `EMA validation top-1 only ${result.ema.val.top1}`);
    assert.ok(result.raw && result.raw.test.top1 > 0.4, 'raw weights are scored too');
    assert.equal(result.ema.test.count, 1000);
    assert.equal(result.steps, 93);
    assert.equal(result.flops, 427608);
    assert.equal(result.params, 16586);

    const rows = metrics(straight);
    const steps = rows.filter((r) => r.kind === 'step');
    const epochs = rows.filter((r) => r.kind === 'epoch');
    assert.deepEqual(
      steps.map((r) => r.step),
      [...Array(93).keys()],
    );
    assert.deepEqual(
      epochs.map((r) => r.epoch),
      [0, 1, 2],
    );
    for (const e of epochs) assert.ok(e.kind === 'epoch' && e.valTop1 !== null, 'validated every epoch');
    const last = epochs[2];
    assert.ok(
      last.kind === 'epoch' && last.valTop1 === result.ema.val.top1,
      'the last validation is the final EMA score',
    );
    const first = steps[0];
    assert.ok(first.kind === 'step' && first.emaDecay === 0.1, 'EMA warm-up: decay 1/10 at the first update');

    const model = loadModelFile(straight);
    assert.equal(model.weights, 'model');
    assert.deepEqual(model.network.arch, ARCH);
    assert.equal(model.description.spaceName.endsWith('tiny28-space.yaml'), true);
    model.network.dispose();
  });

  test('a run killed with SIGKILL mid-epoch and resumed ends bit-identical', async () => {
    const killed = join(base, 'killed');
    const child = spawn(process.execPath, [CLI, 'retrain', '--config', CONFIG, '--out', killed, '--quiet'], {
      cwd: root,
      stdio: 'ignore',
    });
    const ckpt = join(killed, 'checkpoint.safetensors');
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (existsSync(ckpt)) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 10);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the run finished before it could be killed'));
      });
    });
    await new Promise((r) => child.on('close', r));
    assert.ok(!existsSync(join(killed, 'final.safetensors')), 'killed before the end');
    const again = cream(['retrain', '--resume', killed, '--quiet']);
    assert.equal(again.status, 0, again.stderr);
    assert.ok(
      readFileSync(join(killed, 'final.safetensors')).equals(readFileSync(join(straight, 'final.safetensors'))),
      'final.safetensors differs from the uninterrupted run',
    );
    assert.deepEqual(
      timeless(metrics(killed)),
      timeless(metrics(straight)),
      'metrics.jsonl: every row once, same values',
    );
    const result = (dir: string) => ({ ...readJson<RetrainResult>(join(dir, 'result.json')), seconds: 0 });
    assert.deepEqual(result(killed), result(straight));
  });

  test('cream eval scores the run folder and its final.safetensors', () => {
    const result = readJson<RetrainResult>(join(straight, 'result.json'));
    const out = cream([
      'eval',
      '--checkpoint',
      straight,
      '--json',
      '--threads',
      '1',
      '--latency-runs',
      '30',
      '--latency-warmup',
      '3',
    ]);
    assert.equal(out.status, 0, out.stderr);
    const e = JSON.parse(out.stdout);
    assert.equal(e.split, 'test');
    assert.equal(e.top1, result.ema.test.top1, 'the same weights on the same images');
    assert.equal(e.top5, result.ema.test.top5);
    assert.equal(e.images, 1000);
    assert.equal(e.flops, result.flops);
    assert.equal(e.params, result.params);
    assert.equal(e.latency.runs, 30);
    assert.equal(e.latency.threads, 1);
    assert.deepEqual(e.latency.inputShape, [1, 28, 28, 1]);
    assert.ok(e.latency.medianMs > 0 && e.latency.medianMs <= e.latency.p90Ms);

    const val = cream([
      'eval',
      '--checkpoint',
      join(straight, 'final.safetensors'),
      '--split',
      'val',
      '--threads',
      '1',
      '--latency-runs',
      '0',
    ]);
    assert.equal(val.status, 0, val.stderr);
    assert.match(val.stdout, new RegExp(`val split, 1000 images: top-1 ${(100 * result.ema.val.top1).toFixed(2)}%`));
    assert.match(val.stdout, /FLOPs \(MACs\): 427,608 {2}params: 16,586/);
    assert.doesNotMatch(val.stdout, /latency/);

    // The mid-run checkpoint: its EMA group is what gets evaluated.
    const mid = cream([
      'eval',
      '--checkpoint',
      join(straight, 'checkpoint.safetensors'),
      '--json',
      '--threads',
      '1',
      '--latency-runs',
      '0',
    ]);
    assert.equal(mid.status, 0, mid.stderr);
    const m = JSON.parse(mid.stdout);
    assert.equal(m.weights, 'ema');
    assert.equal(m.top1, result.ema.test.top1, 'the last checkpoint holds the final EMA weights');
  });
});
