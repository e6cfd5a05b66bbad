import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// src/tensor/native.ts gives libgomp a short spin count while the addon loads, unless the user chose
// a wait policy, and hands the same setting to child processes that ask for it (the PyTorch
// references). Each case runs in a fresh process: libgomp reads its environment once.
const nativeModule = fileURLToPath(new URL('../../src/tensor/native.ts', import.meta.url));

function probe(env: NodeJS.ProcessEnv): { leaked: string | null; childEnv: string | null; policy: string | null } {
  const code = `
const { openmpWaitEnv } = await import(${JSON.stringify(nativeModule)});
const child = openmpWaitEnv();
console.log(JSON.stringify({ leaked: process.env.GOMP_SPINCOUNT ?? null, childEnv: child.GOMP_SPINCOUNT ?? null,
  policy: child.OMP_WAIT_POLICY ?? null }));
`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    env,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
}

const base = { ...process.env };
delete base.GOMP_SPINCOUNT;
delete base.OMP_WAIT_POLICY;

test('the short spin count is set for the addon only, and offered to children', () => {
  assert.deepEqual(probe(base), { leaked: null, childEnv: '20000', policy: null });
});

test("a user's GOMP_SPINCOUNT or OMP_WAIT_POLICY is left alone", () => {
  assert.deepEqual(probe({ ...base, GOMP_SPINCOUNT: '300000' }), {
    leaked: '300000',
    childEnv: '300000',
    policy: null,
  });
  assert.deepEqual(probe({ ...base, OMP_WAIT_POLICY: 'passive' }), {
    leaked: null,
    childEnv: null,
    policy: 'passive',
  });
});
