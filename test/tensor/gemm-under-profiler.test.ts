import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// oneDNN's sgemm kernels run with the stack pointer inside a heap buffer; a signal landing then wrote
// its frame over the heap, so `node --cpu-prof` (SIGPROF every sampling interval) aborted training
// with "corrupted size vs. prev_size" (native/src/signal_guard.h). Without the guard this child dies
// within about a second at a 50 us sampling interval; with it, it runs clean.
const nativeModule = fileURLToPath(new URL('../../src/tensor/native.ts', import.meta.url));
const child = `
const { native } = await import(${JSON.stringify(nativeModule)});
const shapes = [[3200, 40, 160], [3200, 160, 40], [32, 320, 640], [25088, 16, 64], [6272, 24, 96], [32, 16, 8]];
const cases = shapes.map(([m, k, n]) => ({ m, k, n, x: new Float32Array(m * k).fill(0.1), w: new Float32Array(k * n).fill(0.1),
  b: new Float32Array(n), out: new Float32Array(m * n), g: new Float32Array(m * n).fill(0.01),
  gx: new Float32Array(m * k), gw: new Float32Array(k * n), gb: new Float32Array(n) }));
const start = performance.now();
let calls = 0;
while (performance.now() - start < 3000) {
  for (const c of cases) {
    native.gemmForward(c.x, c.w, c.b, c.out, c.m, c.k, c.n, true);
    native.gemmBackward(c.x, c.w, c.g, c.gx, c.gw, c.gb, c.m, c.k, c.n, true, true, true);
    native.sgemm(false, false, c.m, c.n, c.k, 1, c.x, c.k, c.w, c.n, 0, c.out, c.n);
    calls++;
  }
}
console.log('calls ' + calls);
`;

test('GEMM kernels survive node --cpu-prof sampling (SIGPROF while inside oneDNN)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cream-cpuprof-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        '--cpu-prof',
        '--cpu-prof-interval',
        '50',
        '--cpu-prof-dir',
        dir,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        child,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /calls [1-9]/);
    // The profiler really ran (so SIGPROF was being delivered).
    assert.ok(
      readdirSync(dir).some((f) => f.endsWith('.cpuprofile')),
      'no .cpuprofile written',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
