// `cream rank` as a user runs it: the command on a tiny search run (files, printed summary, the
// cache reused by a second call), and bad input answered by one line on stderr and an exit status.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FASHION_MNIST_DIR } from '../../src/data/index.ts';
import { kendallTau } from '../../src/eval/rank-correlation.ts';
import { makeTinySearchRun, TINY_SCRATCH_CONFIG } from '../helpers/tiny-search-run.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(root, 'bin/cream.mjs');
const haveData = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
const skip = haveData ? false : `Fashion-MNIST is not installed (${FASHION_MNIST_DIR})`;

const cream = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8' });
const oneLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  return lines[0];
};

describe('cream rank (CLI)', { skip }, () => {
  const base = mkdtempSync(join(tmpdir(), 'cream-rank-cli-'));
  const searchDir = join(base, 'search');
  before(async () => {
    await makeTinySearchRun(searchDir);
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  test('ranks 3 architectures into <run>/rank, then again from the cache only', () => {
    const args = ['rank', '--search-run', searchDir, '--n', '3', '--scratch-config', TINY_SCRATCH_CONFIG];
    const r = cream([...args, '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Kendall tau-b: (-?\d\.\d{3}|undefined .*) {2}Spearman rho: .* {2}n: 3$/m);
    assert.match(r.stdout, /networks trained: 3, from the cache: 0/);
    const out = join(searchDir, 'rank');
    for (const name of ['rank.json', 'rank.png', 'rank.svg', 'scratch-accuracy.json', 'scratch-config.resolved.yaml']) {
      assert.ok(existsSync(join(out, name)), `${name} written`);
    }
    const saved = JSON.parse(readFileSync(join(out, 'rank.json'), 'utf8'));
    assert.equal(saved.pairs.length, 3);
    const tau = kendallTau(
      saved.pairs.map((p: { supernetTop1: number }) => p.supernetTop1),
      saved.pairs.map((p: { scratchTop1: number }) => p.scratchTop1),
    );
    assert.equal(saved.kendallTau, Number.isFinite(tau) ? tau : null);

    // JSON log mode: one object per line; the second call trains nothing.
    const again = cream([...args, '--log', 'json']);
    assert.equal(again.status, 0, again.stderr);
    const events = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const result = events.find((e) => e.event === 'result');
    assert.equal(result.trained, 0);
    assert.equal(result.reused, 3);
    assert.deepEqual(result.pairs, saved.pairs);
  });

  test('bad input: one line on stderr, exit 2 for usage mistakes and 1 for a broken run folder', () => {
    const n1 = cream(['rank', '--search-run', searchDir, '--n', '1']);
    assert.equal(n1.status, 2);
    assert.match(oneLine(n1.stderr), /--n: a rank correlation needs at least 2 architectures, got 1/);

    const preset = cream(['rank', '--search-run', searchDir, '--scratch-preset', 'nope']);
    assert.equal(preset.status, 2);
    assert.match(oneLine(preset.stderr), /unknown retrain preset nope \(presets: .*rank-scratch/);

    const both = cream([
      'rank',
      '--search-run',
      searchDir,
      '--scratch-preset',
      'rank-scratch',
      '--scratch-config',
      'x',
    ]);
    assert.equal(both.status, 2);
    assert.match(oneLine(both.stderr), /either --scratch-config or --scratch-preset/);

    const tooMany = cream(['rank', '--search-run', searchDir, '--n', '100000', '--out', join(base, 'never')]);
    assert.equal(tooMany.status, 1);
    assert.match(oneLine(tooMany.stderr), /n = 100000 distinct architectures asked, but space .* builds only \d+/);
    assert.ok(!existsSync(join(base, 'never')), 'no output folder for a refused run');

    const empty = join(base, 'empty-run');
    mkdirSync(empty);
    const noRun = cream(['rank', '--search-run', empty]);
    assert.equal(noRun.status, 1);
    assert.match(oneLine(noRun.stderr), /no config\.resolved\.yaml there \(not a search run folder\)/);
  });
});
