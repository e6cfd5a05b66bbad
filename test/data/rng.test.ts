import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveSeed, Rng } from '../../src/data/rng.ts';

test('xoshiro128** matches the reference implementation from state [1, 2, 3, 4]', () => {
  // Values printed by Blackman & Vigna's xoshiro128starstar.c seeded with s = {1, 2, 3, 4}.
  const rng = Rng.fromState({ algorithm: 'xoshiro128**', state: [1, 2, 3, 4] });
  const got = Array.from({ length: 6 }, () => rng.nextUint32());
  assert.deepEqual(got, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
});

test('equal seeds give equal streams, different seeds different ones', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 20 }, () => a.nextUint32());
  assert.deepEqual(
    sa,
    Array.from({ length: 20 }, () => b.nextUint32()),
  );
  assert.notDeepEqual(
    sa,
    Array.from({ length: 20 }, () => c.nextUint32()),
  );
});

test('state round-trips through JSON and resumes the stream exactly', () => {
  const rng = new Rng(7);
  for (let i = 0; i < 13; i++) rng.next();
  const saved = JSON.parse(JSON.stringify(rng.getState()));
  const expected = Array.from({ length: 10 }, () => rng.next());
  const restored = Rng.fromState(saved);
  assert.deepEqual(
    Array.from({ length: 10 }, () => restored.next()),
    expected,
  );
});

test('setState rejects malformed states', () => {
  const rng = new Rng(1);
  assert.throws(() => rng.setState({ algorithm: 'xoshiro128**', state: [0, 0, 0, 0] }), /all zeros/);
  assert.throws(() => rng.setState({ algorithm: 'xoshiro128**', state: [1, 2, 3, 2 ** 32] }), /uint32/);
  assert.throws(() => rng.setState({ algorithm: 'mt' } as never), /xoshiro128/);
});

test('int(n) stays in range and is roughly uniform; next() is in [0, 1)', () => {
  const rng = new Rng(3);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70000; i++) counts[rng.int(7)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 500, `bucket count ${c}`);
  for (let i = 0; i < 1000; i++) {
    const v = rng.next();
    assert.ok(v >= 0 && v < 1);
  }
  assert.throws(() => rng.int(0), RangeError);
});

test('normal() has mean 0 and variance 1', () => {
  const rng = new Rng(5);
  let s = 0;
  let q = 0;
  const n = 50000;
  for (let i = 0; i < n; i++) {
    const v = rng.normal();
    s += v;
    q += v * v;
  }
  assert.ok(Math.abs(s / n) < 0.03);
  assert.ok(Math.abs(q / n - 1) < 0.03);
});

test('shuffle is a permutation', () => {
  const items = Int32Array.from({ length: 100 }, (_, i) => i);
  new Rng(9).shuffle(items);
  assert.deepEqual(
    Array.from(items).sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.notDeepEqual(
    Array.from(items),
    Array.from({ length: 100 }, (_, i) => i),
  );
});

test('deriveSeed separates coordinates and high seed bits', () => {
  const seen = new Set<number>();
  for (let e = 0; e < 20; e++) for (let b = 0; b < 50; b++) seen.add(deriveSeed(1, e, b));
  assert.equal(seen.size, 1000);
  assert.notEqual(deriveSeed(1, 2, 3), deriveSeed(1, 3, 2));
  assert.notEqual(deriveSeed(5), deriveSeed(5 + 2 ** 32));
  assert.equal(deriveSeed(1, 2, 3), deriveSeed(1, 2, 3));
  assert.throws(() => deriveSeed(-1), RangeError);
  assert.throws(() => deriveSeed(1.5), RangeError);
});
