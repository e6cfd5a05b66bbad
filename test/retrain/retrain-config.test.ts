// Retrain configs: the paper's defaults, unknown keys and bad values named by path, presets valid,
// the LR scaling rule, and the forms `--arch` accepts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkArch, readArchFile } from '../../src/retrain/arch-input.ts';
import {
  loadRetrainConfigFile,
  loadRetrainPreset,
  peakLearningRate,
  RETRAIN_PRESETS,
  validateRetrainConfig,
  withRetrainOverrides,
} from '../../src/retrain/retrain-config.ts';
import { loadSpace } from '../../src/space/index.ts';

describe('retrain config', () => {
  test('defaults are the paper recipe (CREAM.md §4) with EMA decay adapted to short runs', () => {
    const c = validateRetrainConfig({});
    assert.deepEqual(c.optimizer, { alpha: 0.9, eps: 1e-3, momentum: 0.9, weightDecay: 1e-5 });
    assert.equal(c.train.lrPer1024, 0.064);
    assert.equal(c.train.warmupEpochs, 3);
    assert.equal(c.train.labelSmoothing, 0.1);
    assert.equal(c.train.dropout, undefined, "dropout defaults to the space's head dropout");
    assert.deepEqual(c.ema, { decay: 0.999, warmup: true });
    assert.deepEqual(c.augment.erasing, { probability: 0.2, mode: 'pixel' });
    assert.equal(c.augment.randAugment?.ops, 2);
    assert.equal(c.augment.randAugment?.magnitude, 9);
  });

  test('peak LR is 0.064 per 1,024 images scaled to the batch, unless given', () => {
    assert.equal(peakLearningRate(validateRetrainConfig({ train: { batchSize: 128 } })), 0.008);
    assert.equal(peakLearningRate(validateRetrainConfig({ train: { batchSize: 2048 } })), 0.128);
    assert.equal(peakLearningRate(validateRetrainConfig({ train: { batchSize: 128, lr: 0.05 } })), 0.05);
  });

  test('unknown keys and bad values are rejected with their paths', () => {
    assert.throws(
      () => validateRetrainConfig({ train: { epochz: 3 } }, 'my.yaml'),
      /my\.yaml: train\.epochz: unknown key/,
    );
    assert.throws(() => validateRetrainConfig({ ema: { decay: 1 } }), /ema\.decay/);
    assert.throws(
      () => validateRetrainConfig({ augment: { randAugment: { magnitude: 11 } } }),
      /augment\.randAugment\.magnitude/,
    );
    assert.throws(
      () => validateRetrainConfig({ augment: { randAugment: { choices: ['blur'] } } }),
      /augment\.randAugment\.choices\[0\]/,
    );
    assert.throws(
      () => validateRetrainConfig({ train: { epochs: 3, warmupEpochs: 3 } }),
      /warmupEpochs \(3\) must be below train\.epochs \(3\)/,
    );
    assert.throws(
      () => withRetrainOverrides(validateRetrainConfig({}), { 'train.batchSize': 0 }, 'command-line options'),
      /command-line options: train\.batchSize/,
    );
  });

  test('RandAugment and erasing can be switched off with null', () => {
    const c = validateRetrainConfig({ augment: { randAugment: null, erasing: null } });
    assert.equal(c.augment.randAugment, null);
    assert.equal(c.augment.erasing, null);
  });

  test('the presets validate; fmnist-quick is short', () => {
    for (const name of RETRAIN_PRESETS) {
      const c = loadRetrainPreset(name);
      assert.equal(c.space, 'fmnist');
    }
    assert.ok(loadRetrainPreset('fmnist-quick').train.epochs <= 5);
    assert.ok(loadRetrainPreset('fmnist').train.epochs >= 30);
    assert.throws(() => loadRetrainPreset('imagenet-xl'), /unknown retrain preset imagenet-xl/);
  });

  test("a config's relative space file is found beside the config", () => {
    const c = loadRetrainConfigFile(new URL('./fixtures/tiny-retrain.yaml', import.meta.url).pathname);
    assert.match(c.space ?? '', /^\/.*test\/fixtures\/search\/tiny28-space\.yaml$/);
  });
});

describe('--arch input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cream-arch-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const space = loadSpace('fmnist');
  const arch = [['k3e4'], ['k5e6', 'skip'], ['k3e6'], ['k7e4', 'k3e4']];

  test("the search's best.json: arch and space (a relative space file resolved beside it)", () => {
    const best = readArchFile(write('best.json', JSON.stringify({ space: 'fmnist', arch, flops: 1 })));
    assert.deepEqual(best, { arch, space: 'fmnist' });
    const rel = readArchFile(write('best2.json', JSON.stringify({ space: 'spaces/my.yaml', arch })));
    assert.equal(rel.space, join(dir, 'spaces/my.yaml'));
  });

  test('a plain architecture JSON and the compact text form', () => {
    assert.deepEqual(readArchFile(write('plain.json', JSON.stringify(arch))), { arch });
    const compact = readArchFile(write('arch.txt', 'k3e4/k5e6,skip/k3e6/k7e4,k3e4\n'));
    assert.deepEqual(checkArch(space, compact.arch, 'arch.txt'), arch);
  });

  test('clear errors: unreadable, invalid JSON, no arch field, an op outside the space', () => {
    assert.throws(() => readArchFile(join(dir, 'missing.json')), /--arch .*missing\.json: cannot read it \(ENOENT\)/);
    assert.throws(() => readArchFile(write('bad.json', '{"arch": [')), /not valid JSON/);
    assert.throws(() => readArchFile(write('noarch.json', '{"space": "fmnist"}')), /needs an "arch" field/);
    assert.throws(
      () => checkArch(space, [['k9e9'], ['k3e4'], ['k3e4'], ['k3e4']], 'best.json'),
      /best\.json: the architecture does not fit space fmnist: arch stage 0 layer 0: op "k9e9" is not allowed/,
    );
    assert.throws(() => checkArch(space, [['k3e4'], ['k3e4']], 'best.json'), /expected 4 stages/);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));
});
