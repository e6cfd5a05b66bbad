import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { UsageError } from '../../src/cli/errors.ts';
import { parseMacs, registerSpaceCommands } from '../../src/cli/space.ts';
import { childCost, loadSpace, validateArch } from '../../src/space/index.ts';
import { CREAM_287M, CREAM_481M } from './fixtures.ts';

async function run(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command().exitOverride();
  registerSpaceCommands(program, { write: (t) => void (out += t) });
  await program.parseAsync(args, { from: 'user' });
  return out;
}

async function usageError(args: string[], pattern: RegExp): Promise<void> {
  await assert.rejects(run(...args), (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${e}`);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
}

describe('cream space (CLI)', () => {
  it('count', async () => {
    assert.deepEqual(JSON.parse(await run('space', 'count', '--space', 'imagenet', '--json')), {
      space: 'imagenet',
      candidates: String(2058n ** 5n),
      networks: String(1554n ** 5n),
    });
    assert.match(
      await run('space', 'count', '--space', 'fmnist'),
      /^fmnist: 17,938,308,212,496 candidate paths \(~1\.79e\+13\)/,
    );
  });

  it('flops with inline JSON, a file, a file entry, the compact and the official forms', async () => {
    const json = (s: string) => JSON.parse(s) as { macs: number; params: number };
    assert.deepEqual(
      json(await run('space', 'flops', '--space', 'imagenet', '--arch', JSON.stringify(CREAM_287M), '--json')),
      {
        macs: 287_195_240,
        params: 6_044_368,
      },
    );
    const dir = mkdtempSync(join(tmpdir(), 'cli-space-'));
    const file = join(dir, 'a.json');
    writeFileSync(file, JSON.stringify(CREAM_481M));
    assert.deepEqual(json(await run('space', 'flops', '--space', 'imagenet', '--arch', file, '--json')), {
      macs: 481_598_712,
      params: 7_713_360,
    });
    const named = join(dir, 'paths.json');
    writeFileSync(named, JSON.stringify({ small: [['k3e4'], ['k3e4'], ['k3e4', 'k3e4'], ['k3e4']] }));
    const f = loadSpace('fmnist');
    assert.deepEqual(
      json(await run('space', 'flops', '--space', 'fmnist', '--arch', `${named}#small`, '--json')),
      childCost(f, [['k3e4'], ['k3e4'], ['k3e4', 'k3e4'], ['k3e4']]),
    );
    const compact = 'k3e4/k5e6,k5e6/k5e6,k3e6,k5e6/k5e6,k5e6,k5e6,k5e6/k5e6,k5e6,k5e6';
    assert.equal(
      json(await run('space', 'flops', '--space', 'imagenet', '--arch', compact, '--json')).macs,
      287_195_240,
    );
    const official = '[[0],[3,4,3,1],[3,2,3,0],[3,3,3,1,1],[3,3,3,3],[3,3,3,3],[0]]';
    assert.equal(
      json(await run('space', 'flops', '--space', 'imagenet', '--official', '--arch', official, '--json')).macs,
      481_598_712,
    );
    const human = await run('space', 'flops', '--space', 'imagenet', '--arch', compact);
    assert.equal(human, 'imagenet at 224 px: 287,195,240 MACs (287.2M), 6,044,368 parameters (6.04M)\n');
    const r160 = json(
      await run('space', 'flops', '--space', 'imagenet', '--arch', compact, '--resolution', '160', '--json'),
    );
    assert.deepEqual(r160, childCost(loadSpace('imagenet'), CREAM_287M, 160));
  });

  it('sample prints one architecture per line within the budget, reproducibly', async () => {
    const args = [
      'space',
      'sample',
      '--space',
      'imagenet',
      '--min-flops',
      '250M',
      '--max-flops',
      '350e6',
      '--n',
      '20',
      '--seed',
      '7',
    ];
    const out = await run(...args);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 20);
    const sp = loadSpace('imagenet');
    for (const line of lines) {
      const arch = JSON.parse(line);
      validateArch(sp, arch);
      const { macs } = childCost(sp, arch);
      assert.ok(macs >= 250e6 && macs <= 350e6);
    }
    assert.equal(await run(...args), out);
    const rich = JSON.parse((await run('space', 'sample', '--space', 'fmnist', '--json', '--seed', '1')).trim());
    assert.deepEqual({ macs: rich.macs, params: rich.params }, childCost(loadSpace('fmnist'), rich.arch));
  });

  it('reports mistakes as one-line usage errors (exit code 2)', async () => {
    await usageError(['space', 'count', '--space', 'nope'], /unknown space "nope"/);
    await usageError(['space', 'flops', '--space', 'imagenet', '--arch', '[["k3e4"]]'], /arch: expected 5 stages/);
    await usageError(['space', 'flops', '--space', 'imagenet', '--arch', '[["k3e4"'], /invalid JSON/);
    await usageError(
      ['space', 'flops', '--space', 'imagenet', '--arch', 'k3e4/k5e6/k5e6/skip/k5e6'],
      /arch stage 3 layer 0: the first layer of a stage cannot be skip/,
    );
    await usageError(
      ['space', 'flops', '--space', 'imagenet', '--arch', '/no/such.json#x'],
      /stage|not allowed|expected/,
    );
    await usageError(
      ['space', 'flops', '--space', 'imagenet', '--arch', 'x', '--resolution', '0'],
      /--resolution: expected an integer >= 1/,
    );
    await usageError(
      ['space', 'sample', '--space', 'imagenet', '--max-flops', '50M'],
      /infeasible: space "imagenet" at 224 px has paths from 81,740,328 to 573,203,488 MACs/,
    );
    await usageError(
      ['space', 'sample', '--space', 'imagenet', '--max-flops', 'lots'],
      /--max-flops: expected a number of MACs/,
    );
    await usageError(['space', 'sample', '--space', 'imagenet', '--n', '-1'], /--n: expected an integer >= 1/);
  });

  it('parses MACs with suffixes', () => {
    assert.equal(parseMacs('250M', 'x'), 250e6);
    assert.equal(parseMacs('0.5G', 'x'), 5e8);
    assert.equal(parseMacs('12e6', 'x'), 12e6);
    assert.equal(parseMacs('1500k', 'x'), 1.5e6);
    assert.throws(() => parseMacs('-3', 'x'), UsageError);
  });
});
