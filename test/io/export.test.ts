import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Command } from 'commander';
import { registerExportCommand } from '../../src/cli/export.ts';
import { saveCheckpoint } from '../../src/io/checkpoint.ts';
import { loadChildCheckpoint, resolveCheckpointFile } from '../../src/io/export-checkpoint.ts';
import { parseMetadataProps } from '../../src/io/export-metadata.ts';
import { exportCheckpoint } from '../../src/io/export-model.ts';
import { readOnnxSummary } from '../../src/io/onnx-proto.ts';
import { ChildNetwork } from '../../src/models/index.ts';
import { InitRandom } from '../../src/nn/index.ts';
import { loadSpace } from '../../src/space/index.ts';
import { FMNIST_ARCH, fashionImages, maxAbsDiff, noiseImages, referenceLogits } from './export-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'cream-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const space = loadSpace('fmnist');

/** A retrain-style checkpoint: group `model`, optionally `ema` (other weights), state { space, arch }. */
function writeRetrainCheckpoint(file: string, opts: { ema?: boolean; state?: Record<string, unknown> } = {}) {
  const model = new ChildNetwork(space, FMNIST_ARCH, new InitRandom(1));
  const ema = new ChildNetwork(space, FMNIST_ARCH, new InitRandom(2));
  const groups: Record<string, Map<string, import('../../src/tensor/index.ts').Tensor>> = { model: model.stateDict() };
  if (opts.ema) groups.ema = ema.stateDict();
  saveCheckpoint(file, groups, opts.state ?? { space: 'fmnist', arch: FMNIST_ARCH, epoch: 3 });
  return { model, ema };
}

describe('export from a checkpoint', () => {
  test('the ema group is exported when present, model otherwise or when asked', () => {
    const file = join(dir, 'both.safetensors');
    const { model, ema } = writeRetrainCheckpoint(file, { ema: true });
    const x = fashionImages(2) ?? noiseImages(2, 28, 1);
    const byDefault = loadChildCheckpoint(file);
    assert.equal(byDefault.group, 'ema');
    assert.ok(maxAbsDiff(referenceLogits(byDefault.net, x, 2), referenceLogits(ema.eval(), x, 2)) === 0);
    const asked = loadChildCheckpoint(file, { group: 'model' });
    assert.equal(asked.group, 'model');
    assert.ok(maxAbsDiff(referenceLogits(asked.net, x, 2), referenceLogits(model.eval(), x, 2)) === 0);
    assert.throws(
      () => loadChildCheckpoint(file, { group: 'teacher' }),
      /no weight group teacher \(the checkpoint has (model, ema|ema, model)\)/,
    );
    for (const n of [model, ema, byDefault.net, asked.net]) n.dispose();
  });

  test('a run folder stands for its final.safetensors; ONNX metadata names the weights and the file', async () => {
    const run = join(dir, 'run');
    mkdirSync(run);
    writeRetrainCheckpoint(join(run, 'final.safetensors'));
    writeRetrainCheckpoint(join(run, 'epoch-2.safetensors'));
    assert.equal(resolveCheckpointFile(run), join(run, 'final.safetensors'));
    const out = join(run, 'exports', 'model.onnx');
    const r = await exportCheckpoint({ checkpoint: run, format: 'onnx', out });
    const meta = parseMetadataProps(readOnnxSummary(readFileSync(out)).metadata);
    assert.equal(meta.weights, 'model');
    assert.equal(meta.checkpoint, join(run, 'final.safetensors'));
    assert.deepEqual(meta.arch, FMNIST_ARCH);
    assert.equal(r.bytes, readFileSync(out).byteLength);
    rmSync(join(run, 'final.safetensors'));
    assert.equal(resolveCheckpointFile(run), join(run, 'epoch-2.safetensors'));
    writeRetrainCheckpoint(join(run, 'epoch-3.safetensors'));
    assert.throws(
      () => resolveCheckpointFile(run),
      /no final\.safetensors or checkpoint\.safetensors, and several checkpoints/,
    );
  });

  test("cream retrain's final.safetensors (description nested in state.model, space spec inline) exports", async () => {
    const run = join(dir, 'retrained');
    mkdirSync(run);
    const normalize = { mean: [0.286], std: [0.353] };
    writeRetrainCheckpoint(join(run, 'final.safetensors'), {
      state: {
        model: { format: 'cream-child-1', spaceName: 'fmnist', space: space.spec, arch: FMNIST_ARCH, normalize },
        epochs: 1,
      },
    });
    const out = join(run, 'model.onnx');
    const r = await exportCheckpoint({ checkpoint: run, format: 'onnx', out });
    assert.equal(r.metadata.space, 'fmnist');
    assert.equal(r.metadata.weights, 'model');
    const meta = parseMetadataProps(readOnnxSummary(readFileSync(out)).metadata);
    assert.deepEqual(meta.normalize, normalize);
    assert.deepEqual(meta.arch, FMNIST_ARCH);
  });

  test('tensors that do not fit the architecture: an error listing the first mismatches, nothing written', async () => {
    const file = join(dir, 'wrong.safetensors');
    const out = join(dir, 'wrong.onnx');
    // Weights of FMNIST_ARCH, state claiming another architecture: one with an extra layer...
    const deeper = FMNIST_ARCH.map((s) => [...s]);
    deeper[1][2] = 'k3e4';
    writeRetrainCheckpoint(file, { state: { space: 'fmnist', arch: deeper } });
    await assert.rejects(exportCheckpoint({ checkpoint: file, format: 'onnx', out }), (e: Error) => {
      assert.equal(e.name, 'CheckpointError');
      assert.match(e.message, /group "model" does not match architecture \[\["k3e4"/);
      assert.match(e.message, /: missing blocks\.2\.2\.conv_pw\.weight; missing blocks\.2\.2\.bn1\.weight;/);
      return true;
    });
    // ...and one with a wider first layer.
    const wider = FMNIST_ARCH.map((s) => [...s]);
    wider[0][0] = 'k7e6';
    writeRetrainCheckpoint(file, { state: { space: 'fmnist', arch: wider } });
    await assert.rejects(exportCheckpoint({ checkpoint: file, format: 'tfjs', out }), (e: Error) => {
      assert.match(e.message, /blocks\.1\.0\.conv_pw\.weight: expected shape \[1, 1, 16, 96\], got \[1, 1, 16, 64\]/);
      assert.match(e.message, /\(and \d+ more\)$/);
      return true;
    });
    assert.equal(existsSync(out), false);
  });

  test('a checkpoint without space or arch (e.g. a search checkpoint) is refused with a reason', () => {
    const file = join(dir, 'search.safetensors');
    writeRetrainCheckpoint(file, { state: { step: 10 } });
    assert.throws(() => loadChildCheckpoint(file), /no "space".*search checkpoint/);
    writeRetrainCheckpoint(file, { state: { space: 'fmnist' } });
    assert.throws(() => loadChildCheckpoint(file), /no "arch"/);
  });

  test('cream export --format tfjs writes model.json beside the checkpoint by default and prints JSON', async () => {
    const run = join(dir, 'cli');
    mkdirSync(run);
    writeRetrainCheckpoint(join(run, 'final.safetensors'), { ema: true });
    const program = new Command('cream').exitOverride();
    registerExportCommand(program);
    const lines: string[] = [];
    const log = console.log;
    console.log = (s: string) => void lines.push(s);
    try {
      await program.parseAsync(['node', 'cream', 'export', '--checkpoint', run, '--format', 'tfjs', '--json']);
    } finally {
      console.log = log;
    }
    const r = JSON.parse(lines[0]);
    assert.equal(r.out, join(run, 'tfjs'));
    assert.equal(r.metadata.weights, 'ema');
    assert.ok(existsSync(join(run, 'tfjs', 'model.json')));
    await assert.rejects(
      program.parseAsync(['node', 'cream', 'export', '--checkpoint', run, '--format', 'coreml']),
      /--format: expected onnx or tfjs/,
    );
  });
});
