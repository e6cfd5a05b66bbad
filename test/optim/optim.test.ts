// RmspropTF and SGD against PyTorch (scripts/fixtures/optim.py: timm's RMSpropTF update written
// in torch ops, torch.optim.SGD): the same parameters, gradients and learning rates for six steps,
// compared after every step to 1e-6 relative. Plus the schedules and the optimiser state round trip.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { type Optimizer, RmspropTF, SGD, warmupCosine } from '../../src/optim/index.ts';
import { Tensor } from '../../src/tensor/index.ts';

interface Entry {
  shape: number[];
  data: number[];
}
interface OptimCase {
  name: string;
  optimizer: 'rmsprop-tf' | 'sgd';
  options: { alpha?: number; eps?: number; momentum: number; nesterov?: boolean; weightDecay: number };
  lrs: number[];
  params: Record<string, Entry>;
  grads: Record<string, Entry>[];
  trajectory: Record<string, Entry>[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch/optim.json', import.meta.url), 'utf8')) as {
  cases: OptimCase[];
};

function build(c: OptimCase, params: [string, Tensor][]): Optimizer {
  const o = c.options;
  return c.optimizer === 'sgd'
    ? new SGD(params, { momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay })
    : new RmspropTF(params, { alpha: o.alpha, eps: o.eps, momentum: o.momentum, weightDecay: o.weightDecay });
}

function makeParams(c: OptimCase): [string, Tensor][] {
  return Object.entries(c.params).map(([name, e]) => [name, Tensor.from(e.data, e.shape).asParameter()]);
}

function setGrads(params: [string, Tensor][], grads: Record<string, Entry>): void {
  for (const [name, p] of params) {
    p.grad?.dispose();
    p.grad = Tensor.from(grads[name].data, grads[name].shape);
  }
}

function assertClose(actual: Float32Array, expected: Entry, what: string): void {
  assert.equal(actual.length, expected.data.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const e = expected.data[i];
    const err = Math.abs(actual[i] - e) / Math.abs(e);
    assert.ok(err <= 1e-6, `${what}[${i}]: ${actual[i]} vs torch ${e} (relative error ${err.toExponential(2)})`);
  }
}

describe('optimisers against PyTorch', () => {
  for (const c of fixture.cases) {
    test(`${c.name}: ${c.lrs.length} steps match`, () => {
      const params = makeParams(c);
      const opt = build(c, params);
      c.lrs.forEach((lr, step) => {
        setGrads(params, c.grads[step]);
        opt.step(lr);
        for (const [name, p] of params)
          assertClose(p.f32, c.trajectory[step][name], `${c.name} step ${step + 1} ${name}`);
      });
      opt.dispose();
      for (const [, p] of params) {
        p.grad?.dispose();
        p.dispose();
      }
    });
  }

  test('optimizer state saved mid-run and loaded into a fresh optimizer continues identically', () => {
    for (const c of fixture.cases) {
      const params = makeParams(c);
      const opt = build(c, params);
      const half = 3;
      for (let s = 0; s < half; s++) {
        setGrads(params, c.grads[s]);
        opt.step(c.lrs[s]);
      }
      const saved = new Map([...opt.stateDict()].map(([k, t]) => [k, { shape: [...t.shape], data: t.f32.slice() }]));
      const again = build(c, params);
      again.loadStateDict(saved);
      for (let s = half; s < c.lrs.length; s++) {
        setGrads(params, c.grads[s]);
        again.step(c.lrs[s]);
      }
      for (const [name, p] of params)
        assertClose(p.f32, c.trajectory[c.lrs.length - 1][name], `${c.name} resumed ${name}`);
      opt.dispose();
      again.dispose();
      for (const [, p] of params) {
        p.grad?.dispose();
        p.dispose();
      }
    }
  });

  test('optimizer state of another model is refused with the parameter named', () => {
    const [c] = fixture.cases;
    const params = makeParams(c);
    const opt = build(c, params);
    const bad = new Map([['square_avg.conv.weight', { shape: [2, 2], data: new Float32Array(4) }]]);
    assert.throws(() => opt.loadStateDict(bad), /square_avg\.conv\.weight has shape \[2, 2\]/);
    const unknown = new Map([['momentum.fc.weight', { shape: [2], data: new Float32Array(2) }]]);
    assert.throws(() => opt.loadStateDict(unknown), /momentum\.fc\.weight names no parameter/);
    opt.dispose();
    for (const [, p] of params) p.dispose();
  });
});

describe('warm-up + cosine schedule', () => {
  test('rises linearly from the warm-up LR, peaks after warm-up, ends at the minimum', () => {
    const lr = warmupCosine(0.1, 100, 10, { min: 0.001, warmupStart: 1e-6 });
    assert.equal(lr(0), 1e-6);
    assert.ok(Math.abs(lr(5) - (1e-6 + (0.1 - 1e-6) / 2)) < 1e-12);
    assert.equal(lr(10), 0.1);
    assert.ok(Math.abs(lr(55) - (0.001 + 0.5 * 0.099)) < 1e-12, 'half way through the cosine');
    assert.ok(Math.abs(lr(100) - 0.001) < 1e-12);
    for (let s = 11; s < 100; s++) assert.ok(lr(s) <= lr(s - 1), `non-increasing after warm-up (step ${s})`);
  });
});
