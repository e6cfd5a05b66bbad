// Evolution and random search as algorithms, on a score with a known optimum: paths stay in the
// space and the budget, are never scored twice, the run is deterministic, and the evolution's
// breeding finds better paths than random search given the same number of evaluations.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { archKey, evolutionSearch, randomSearch, SPOS_EVOLUTION } from '../../src/baselines/index.ts';
import { type Arch, ArchSampler, loadSpace, Mulberry32, validateArch } from '../../src/space/index.ts';
import { tinySpace } from '../helpers/tiny-space.ts';

const fmnist = loadSpace('fmnist');
const budget = { minMacs: 10e6, maxMacs: 25e6 };

// A target path inside the budget; the score is the share of layers that match it (1 = found).
const target = new ArchSampler(fmnist, budget).sample(new Mulberry32(1234));
const layers = target.flat().length;
const matchScore = (arch: Arch) => arch.flat().filter((op, i) => op === target.flat()[i]).length / layers;

describe('evolution search (SPOS baseline)', () => {
  test('scores population x iterations distinct in-budget paths, best first, deterministically', () => {
    const sampler = new ArchSampler(fmnist, budget);
    const opts = { ...SPOS_EVOLUTION, population: 20, iterations: 5, topK: 5, mutations: 8, crossovers: 8 };
    const run = () => evolutionSearch(sampler, new Mulberry32(7), matchScore, opts);
    const r = run();
    assert.equal(r.scored.length, 100);
    assert.equal(new Set(r.scored.map((s) => archKey(s.arch))).size, 100, 'no path scored twice');
    for (const s of r.scored) {
      validateArch(fmnist, s.arch);
      assert.ok(sampler.fits(s.arch), 'in budget');
      assert.equal(s.flops, sampler.table.pathMacs(s.arch));
    }
    assert.equal(r.top.length, 5);
    for (let i = 1; i < r.top.length; i++) assert.ok(r.top[i - 1].score >= r.top[i].score, 'best first');
    const bestScored = Math.max(...r.scored.map((s) => s.score));
    assert.equal(r.top[0].score, bestScored);
    assert.equal(r.iterations.length, 5);
    for (let i = 1; i < 5; i++) assert.ok(r.iterations[i].best.score >= r.iterations[i - 1].best.score);
    assert.deepEqual(
      run().scored.map((s) => archKey(s.arch)),
      r.scored.map((s) => archKey(s.arch)),
      'same seed, same trajectory',
    );
  });

  test('breeding beats random search at the same number of evaluations', () => {
    const sampler = new ArchSampler(fmnist, budget);
    let evoWins = 0;
    for (const seed of [1, 2, 3]) {
      const evo = evolutionSearch(sampler, new Mulberry32(seed), matchScore, SPOS_EVOLUTION);
      const rand = randomSearch(sampler, new Mulberry32(seed), matchScore, {
        candidates: evo.scored.length,
        topK: 10,
      });
      assert.equal(evo.scored.length, 1000);
      assert.equal(rand.scored.length, 1000);
      if (evo.top[0].score > rand.top[0].score) evoWins++;
    }
    assert.equal(evoWins, 3, 'evolution should find closer matches than random search on every seed');
  });

  test('a budget with fewer distinct paths than asked for ends early instead of looping', () => {
    const space = tinySpace();
    const sampler = new ArchSampler(space); // the whole tiny space: 3*4 choices per stage, 144 paths
    const r = evolutionSearch(sampler, new Mulberry32(3), () => 0.5, {
      ...SPOS_EVOLUTION,
      population: 60,
      iterations: 10,
    });
    assert.ok(r.scored.length <= 144);
    assert.equal(new Set(r.scored.map((s) => archKey(s.arch))).size, r.scored.length);
    const rand = randomSearch(sampler, new Mulberry32(3), () => 0.5, { candidates: 1000, topK: 3 });
    assert.ok(rand.scored.length <= 144 && rand.scored.length > 100, `random search scored ${rand.scored.length}`);
  });

  test('ties go to fewer FLOPs; bad settings are errors naming the setting', () => {
    const sampler = new ArchSampler(fmnist, budget);
    const r = evolutionSearch(sampler, new Mulberry32(5), () => 0.25, {
      ...SPOS_EVOLUTION,
      population: 10,
      iterations: 2,
      topK: 4,
      mutations: 3,
      crossovers: 3,
    });
    for (let i = 1; i < r.top.length; i++) assert.ok(r.top[i - 1].flops <= r.top[i].flops);
    assert.throws(
      () => evolutionSearch(sampler, new Mulberry32(1), matchScore, { ...SPOS_EVOLUTION, mutations: 40 }),
      /evolution.mutations \+ evolution.crossovers \(65\) exceed evolution.population \(50\)/,
    );
    assert.throws(
      () => evolutionSearch(sampler, new Mulberry32(1), matchScore, { ...SPOS_EVOLUTION, mutationProb: 2 }),
      /evolution.mutationProb must be in \[0, 1\], got 2/,
    );
    assert.throws(
      () => randomSearch(sampler, new Mulberry32(1), matchScore, { candidates: 0, topK: 1 }),
      /random.candidates must be a positive integer, got 0/,
    );
  });
});
