// Bad input to `cream retrain` / `cream eval`: one clear line on stderr, a non-zero exit, and
// nothing overwritten or created.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { FASHION_MNIST_DIR } from '../../src/data/index.ts';
import { TINY_CONFIG, tinyConfig, writeModelFile } from './helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(root, 'bin/cream.mjs');
const SPACE = join(root, 'test/fixtures/search/tiny28-space.yaml');
const haveData = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));

const cream = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8' });
const oneLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  return lines[0];
};

describe('cream retrain / eval refuse bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cream-retrain-bad-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  test('an architecture not in the space: exit 2, the op and the allowed ones named, no folder created', () => {
    const arch = write('bad-arch.json', JSON.stringify({ space: SPACE, arch: [['k7e6'], ['k3e4']] }));
    const out = join(dir, 'never');
    const r = cream(['retrain', '--arch', arch, '--out', out, '--quiet']);
    assert.equal(r.status, 2);
    assert.match(
      oneLine(r.stderr),
      /bad-arch\.json: the architecture does not fit space .*: arch stage 0 layer 0: op "k7e6" is not allowed; allowed: k3e2, k5e2, k3e4/,
    );
    assert.ok(!existsSync(out), 'the run folder was created anyway');
  });

  test('a plain architecture without a space, and unknown config keys', () => {
    const plain = write('plain.json', JSON.stringify([['k3e2'], ['k3e4']]));
    const r = cream(['retrain', '--arch', plain, '--out', join(dir, 'never2')]);
    assert.equal(r.status, 2);
    assert.match(oneLine(r.stderr), /no search space: give --space/);
    const config = write('typo.yaml', 'train: { epochz: 3 }\n');
    const t = cream(['retrain', '--config', config, '--arch', plain, '--space', SPACE, '--out', join(dir, 'never3')]);
    assert.equal(t.status, 2);
    assert.match(oneLine(t.stderr), /typo\.yaml: train\.epochz: unknown key/);
  });

  test('--out that already holds a checkpoint is refused unless --resume; the file is untouched', () => {
    const out = join(dir, 'taken');
    mkdirSync(out);
    const ckpt = write('taken/checkpoint.safetensors', 'not really a checkpoint');
    const before = statSync(ckpt).mtimeMs;
    const r = cream(['retrain', '--config', TINY_CONFIG, '--out', out, '--quiet']);
    assert.equal(r.status, 2);
    assert.match(oneLine(r.stderr), /--out .*taken already holds checkpoint\.safetensors: pass --resume/);
    assert.equal(readFileSync(ckpt, 'utf8'), 'not really a checkpoint');
    assert.equal(statSync(ckpt).mtimeMs, before);
    assert.ok(!existsSync(join(out, 'config.resolved.yaml')));
  });

  test('--resume with settings, or of a folder that is not a run, is refused', () => {
    const r = cream(['retrain', '--resume', dir, '--epochs', '5']);
    assert.equal(r.status, 2);
    assert.match(oneLine(r.stderr), /--resume takes every setting from .*config\.resolved\.yaml; drop --epochs/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const e = cream(['retrain', '--resume', empty]);
    assert.equal(e.status, 2);
    assert.match(oneLine(e.stderr), /no config\.resolved\.yaml there/);
  });

  test('--resume of a truncated checkpoint: exit 1 naming the file, the file left as it was', {
    skip: !haveData && 'no Fashion-MNIST',
  }, () => {
    const run = join(dir, 'truncated-run');
    mkdirSync(run);
    writeFileSync(join(run, 'config.resolved.yaml'), toYaml(tinyConfig()));
    const good = join(dir, 'good.safetensors');
    writeModelFile(good, { kind: 'checkpoint' });
    const bytes = readFileSync(good);
    const ckpt = join(run, 'checkpoint.safetensors');
    writeFileSync(ckpt, bytes.subarray(0, bytes.length - 100));
    const r = cream(['retrain', '--resume', run, '--quiet']);
    assert.equal(r.status, 1);
    assert.match(oneLine(r.stderr), /checkpoint\.safetensors.*truncated|truncated.*checkpoint\.safetensors/);
    assert.ok(readFileSync(ckpt).equals(bytes.subarray(0, bytes.length - 100)), 'the checkpoint was rewritten');
    assert.ok(!existsSync(join(run, 'final.safetensors')));

    // cream eval on the same file: the same clear error.
    const ev = cream(['eval', '--checkpoint', ckpt, '--latency-runs', '0']);
    assert.equal(ev.status, 1);
    assert.match(oneLine(ev.stderr), /truncated/);
  });

  test('cream eval: a missing path, a bad --split', () => {
    const r = cream(['eval', '--checkpoint', join(dir, 'nope')]);
    assert.equal(r.status, 1);
    assert.match(oneLine(r.stderr), /no checkpoint file or run folder at .*nope/);
    const s = cream(['eval', '--checkpoint', dir, '--split', 'train']);
    assert.equal(s.status, 2);
    assert.match(oneLine(s.stderr), /--split: expected test or val, got "train"/);
  });
});
