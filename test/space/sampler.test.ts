import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ArchSampler,
  crossoverArchs,
  loadSpace,
  Mulberry32,
  SpaceError,
  sampleArch,
  uniformArch,
  validateArch,
} from '../../src/space/index.ts';

const imagenet = loadSpace('imagenet');

describe('Mulberry32', () => {
  it('is deterministic, in [0, 1), and resumes from its JSON state', () => {
    const a = new Mulberry32(42);
    const b = new Mulberry32(42);
    for (let i = 0; i < 100; i++) assert.equal(a.next(), b.next());
    const state = JSON.parse(JSON.stringify(a.getState()));
    const c = Mulberry32.fromState(state);
    for (let i = 0; i < 1000; i++) {
      const x = a.next();
      assert.equal(x, c.next());
      assert.ok(x >= 0 && x < 1);
    }
    assert.notEqual(new Mulberry32(1).next(), new Mulberry32(2).next());
    assert.throws(() => new Mulberry32(1.5), RangeError);
    assert.throws(() => Mulberry32.fromState({ kind: 'mulberry32', state: -1 }), RangeError);
  });
});

describe('uniform sampling', () => {
  it('op frequencies per layer pass a chi-square test (20,000 samples, no budget)', () => {
    const rng = new Mulberry32(2020);
    const n = 20_000;
    const counts = imagenet.stages.map((s) => s.layerInfo.map((l) => new Map(l.candidateNames.map((c) => [c, 0]))));
    for (let i = 0; i < n; i++) {
      const arch = uniformArch(imagenet, rng);
      arch.forEach((ops, s) => {
        ops.forEach((op, l) => {
          const m = counts[s][l];
          assert.ok(m.has(op), `stage ${s} layer ${l}: ${op}`);
          m.set(op, m.get(op)! + 1);
        });
      });
    }
    for (const stage of counts) {
      for (const m of stage) {
        const k = m.size;
        const expected = n / k;
        let chi2 = 0;
        for (const c of m.values()) chi2 += (c - expected) ** 2 / expected;
        // df = k - 1 <= 6; the 1e-6 tail of chi-square(6) is ~35.9: generous, still catches a missing or doubled op.
        assert.ok(chi2 < 40, `chi2 ${chi2.toFixed(1)} for ${JSON.stringify([...m])}`);
      }
    }
    // first layers never skip, later layers skip 1/7 of the time
    assert.equal(counts[0][0].has('skip'), false);
    assert.ok(Math.abs(counts[2][3].get('skip')! / n - 1 / 7) < 0.01);
  });

  it('is reproducible from the seed', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          uniformArch(imagenet, r)
      )(new Mulberry32(3)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          uniformArch(imagenet, r)
      )(new Mulberry32(3)),
    );
    assert.deepEqual(a, b);
  });
});

describe('budgeted sampling', () => {
  it('every sample lies within [minMacs, maxMacs]', () => {
    const sampler = new ArchSampler(imagenet, { minMacs: 280e6, maxMacs: 320e6 });
    const rng = new Mulberry32(11);
    for (let i = 0; i < 300; i++) {
      const arch = sampler.sample(rng);
      validateArch(imagenet, arch);
      const m = sampler.table.pathMacs(arch);
      assert.ok(m >= 280e6 && m <= 320e6, String(m));
    }
    const small = sampleArch(loadSpace('fmnist'), new Mulberry32(1), { maxMacs: 15e6 });
    assert.ok(new ArchSampler(loadSpace('fmnist')).table.pathMacs(small) <= 15e6);
  });

  it('an empty or infeasible budget states the space range', () => {
    const range = /space "imagenet" at 224 px has paths from 81,740,328 to 573,203,488 MACs/;
    for (const budget of [
      { minMacs: 600e6, maxMacs: 700e6 },
      { maxMacs: 50e6 },
      { minMacs: 600e6 },
      { minMacs: 400e6, maxMacs: 300e6 },
    ]) {
      assert.throws(
        () => new ArchSampler(imagenet, budget),
        (e: unknown) => e instanceof SpaceError && range.test(e.message),
      );
    }
    assert.throws(
      () => new ArchSampler(imagenet, { minMacs: 400e6, maxMacs: 300e6 }),
      /MACs budget is empty: min 400,000,000 > max 300,000,000/,
    );
    assert.throws(
      () => new ArchSampler(imagenet, { minMacs: 600e6 }),
      /MACs budget \[600,000,000, inf\] is infeasible/,
    );
  });

  it('gives up with a clear error when rejection cannot hit a feasible but tiny budget', () => {
    const sampler = new ArchSampler(imagenet, { minMacs: 81_740_328, maxMacs: 81_740_328, maxTries: 1000 });
    assert.throws(
      () => sampler.sample(new Mulberry32(1)),
      /no path within \[81,740,328, 81,740,328\] MACs after 1,000 uniform samples/,
    );
  });
});

describe('evolution operators', () => {
  it('mutation stays in the space and the budget, and p = 0 / 1 behave', async () => {
    const { mutateArch } = await import('../../src/space/index.ts');
    const sampler = new ArchSampler(imagenet, { minMacs: 250e6, maxMacs: 350e6 });
    const rng = new Mulberry32(8);
    let parent = sampler.sample(rng);
    let changed = 0;
    for (let i = 0; i < 200; i++) {
      const child = mutateArch(sampler, parent, rng, 0.1);
      validateArch(imagenet, child);
      assert.ok(sampler.fits(child));
      if (JSON.stringify(child) !== JSON.stringify(parent)) changed++;
      parent = child;
    }
    assert.ok(changed > 100);
    assert.deepEqual(mutateArch(sampler, parent, rng, 0), parent);
    assert.throws(() => mutateArch(sampler, parent, rng, 1.5), /mutation probability/);
    assert.throws(() => mutateArch(sampler, [['skip']], rng), /mutate: arch: expected 5 stages/);
  });

  it('crossover takes each layer from a parent and stays in the budget', () => {
    const sampler = new ArchSampler(imagenet, { minMacs: 250e6, maxMacs: 350e6 });
    const rng = new Mulberry32(9);
    for (let i = 0; i < 200; i++) {
      const a = sampler.sample(rng);
      const b = sampler.sample(rng);
      const c = crossoverArchs(sampler, a, b, rng);
      validateArch(imagenet, c);
      assert.ok(sampler.fits(c));
      c.forEach((ops, s) => {
        ops.forEach((op, l) => {
          assert.ok(op === a[s][l] || op === b[s][l]);
        });
      });
    }
  });

  it('short parents are padded with skip; deeper ones are rejected', () => {
    const sampler = new ArchSampler(imagenet);
    const rng = new Mulberry32(10);
    const short = [['k3e4'], ['k5e6', 'k5e6'], ['k5e6'], ['k5e6'], ['k5e6']];
    const child = crossoverArchs(sampler, short, short, rng);
    assert.deepEqual(child[1], ['k5e6', 'k5e6', 'skip', 'skip']);
    const deep = [['k3e4'], ['k5e6'], ['k5e6'], ['k5e6'], ['k5e6', 'k5e6', 'k5e6', 'k5e6', 'k5e6']];
    assert.throws(() => crossoverArchs(sampler, short, deep, rng), /crossover, second parent: arch stage 4: 5 layers/);
  });
});
