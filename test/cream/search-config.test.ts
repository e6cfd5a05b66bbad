import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConfigError,
  loadSearchPreset,
  SEARCH_PRESETS,
  validateSearchConfig,
  withOverrides,
} from '../../src/cream/search-config.ts';

test('every search preset is valid', () => {
  for (const name of SEARCH_PRESETS) {
    const c = loadSearchPreset(name);
    assert.ok(c.train.epochs > c.train.warmupEpochs, name);
  }
  assert.throws(
    () => loadSearchPreset('fmnist-fast'),
    /unknown search preset fmnist-fast \(presets: fmnist-quick, fmnist, imagenet\)/,
  );
});

test('unknown keys and bad values are errors naming their path', () => {
  assert.throws(
    () => validateSearchConfig({ train: { epochz: 3 } }, 'my.yaml'),
    /my\.yaml: train\.epochz: unknown key/,
  );
  assert.throws(() => validateSearchConfig({ board: { size: 0 } }), /board\.size: /);
  assert.throws(() => validateSearchConfig({ distill: { teacher: 'oracle' } }), /distill\.teacher: /);
  assert.throws(
    () => validateSearchConfig({ train: { epochs: 3, warmupEpochs: 3 } }),
    (e: Error) => e instanceof ConfigError && /warmupEpochs \(3\) must be below train\.epochs \(3\)/.test(e.message),
  );
  assert.throws(
    () => validateSearchConfig({ budget: { minFlops: 5e6, maxFlops: 1e6 } }),
    /minFlops \(5000000\) is above/,
  );
});

test('overrides are applied by dotted path and re-validated', () => {
  const base = loadSearchPreset('fmnist-quick');
  const c = withOverrides(base, { 'train.epochs': 9, 'board.size': 3, seed: 7, 'data.dir': undefined });
  assert.equal(c.train.epochs, 9);
  assert.equal(c.board.size, 3);
  assert.equal(c.seed, 7);
  assert.equal(base.train.epochs, 6, 'the base config is not modified');
  assert.throws(
    () => withOverrides(base, { 'train.lr': -1 }, 'command-line options'),
    /command-line options: train\.lr/,
  );
});

test('baseline selection settings: SPOS defaults, and inconsistent values named', () => {
  const c = validateSearchConfig({});
  assert.equal(c.select.method, 'board');
  assert.deepEqual(c.select.evolution, {
    population: 50,
    iterations: 20,
    topK: 10,
    mutations: 25,
    crossovers: 25,
    mutationProb: 0.1,
  });
  assert.equal(
    validateSearchConfig({ select: { evolution: { population: 8, mutations: 4, crossovers: 4 } } }).select.evolution
      .topK,
    10,
  );
  assert.throws(() => validateSearchConfig({ select: { method: 'darts' } }), /select\.method: /);
  assert.throws(
    () => validateSearchConfig({ select: { evolution: { population: 10 } } }),
    /select\.evolution\.mutations \+ crossovers \(50\) exceed select\.evolution\.population \(10\)/,
  );
  assert.throws(
    () => validateSearchConfig({ data: { val: 1000, valSubset: 500 }, select: { candidateImages: 2000 } }),
    /select\.candidateImages \(2000\) cannot exceed data\.val \(1000\)/,
  );
  assert.throws(() => validateSearchConfig({ select: { evolution: { mutationProb: 1.5 } } }), /mutationProb/);
});
