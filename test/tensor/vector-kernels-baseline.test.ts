import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ProbeResult, probeVectorKernels } from '../helpers/vector-kernel-probe.ts';

// The batch-norm, activation and pointwise kernels are compiled twice (AVX2+FMA and portable
// x86-64) and picked at load time. CI machines have AVX2, so the portable build would otherwise
// never run in the tests: a child process forced onto it with CREAM_SIMD=baseline computes the
// same outputs, which must agree with this process's within float rounding (no FMA there).
const probeModule = fileURLToPath(new URL('../helpers/vector-kernel-probe.ts', import.meta.url));

function baselineProbe(): ProbeResult {
  const code = `
const { probeVectorKernels } = await import(${JSON.stringify(probeModule)});
console.log(JSON.stringify(probeVectorKernels()));
`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, CREAM_SIMD: 'baseline' },
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
}

test('the portable kernel build agrees with the AVX2 build (activations, batch-norm + swish, fused pointwise)', () => {
  const base = baselineProbe();
  assert.equal(base.kernels, 'baseline', 'CREAM_SIMD=baseline must select the portable build');
  const here = probeVectorKernels();
  // Relative tolerance, also applied to a thousandth of the output's largest magnitude (where a
  // value is a difference of nearly equal terms: swish's gradient near x = -1.28, a dot product or
  // a normalised value near zero). The two builds differ only in rounding (FMA contraction, the
  // order of 8-lane sums): tight for the plain activations, looser for outputs built from sums.
  const tolerance = (name: string): number =>
    ['sigmoid', 'swish', 'hardSigmoid', 'relu6'].includes(name) ? 2e-6 : name === 'swishGrad' ? 1e-5 : 1e-4;
  for (const [name, expected] of Object.entries(here.outputs)) {
    const actual = base.outputs[name];
    assert.equal(actual.length, expected.length, `${name}: length`);
    const rel = tolerance(name);
    const scale = Math.max(...expected.map(Math.abs));
    for (let i = 0; i < expected.length; i++) {
      const ok = Math.abs(actual[i] - expected[i]) <= 1e-30 + rel * (Math.abs(expected[i]) + 1e-3 * scale);
      assert.ok(ok, `${name}[${i}]: baseline ${actual[i]}, ${here.kernels} ${expected[i]}`);
    }
  }
});
