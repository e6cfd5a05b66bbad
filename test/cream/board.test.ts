import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type BoardArch, BoardError, PrioritizedBoard } from '../../src/cream/board.ts';

/** A distinct one-stage arch per id. */
const path = (id: number | string): string[][] => [[`op${id}`]];

/** mulberry32: tiny seeded generator so the property tests are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** a weakly dominates b: at least as accurate and at most as expensive. */
const weaklyDominates = (a: { accuracy: number; flops: number }, b: { accuracy: number; flops: number }) =>
  a.accuracy >= b.accuracy && a.flops <= b.flops;

function filled(k: number, points: [number, number][]): PrioritizedBoard {
  const board = new PrioritizedBoard(k);
  points.forEach(([acc, flops], i) => {
    assert.equal(board.offer(path(i), acc, flops, i).outcome, 'entered');
  });
  return board;
}

describe('PrioritizedBoard rule (Eq. 3)', () => {
  test('enters freely while not full, even when dominated', () => {
    const board = new PrioritizedBoard(3);
    assert.deepEqual(board.offer(path('a'), 0.9, 100, 0), { accepted: true, outcome: 'entered' });
    assert.equal(board.isFull, false);
    // Worse on both counts, still enters: the board is not full.
    assert.equal(board.offer(path('b'), 0.1, 900, 1).outcome, 'entered');
    assert.equal(board.offer(path('c'), 0.2, 800, 2).outcome, 'entered');
    assert.equal(board.isFull, true);
    assert.equal(board.size, 3);
  });

  test('full board: enters only by weakly dominating a member', () => {
    const board = filled(2, [
      [0.5, 200],
      [0.7, 300],
    ]);
    // More accurate than both but costlier than both: dominates neither.
    assert.deepEqual(board.offer(path('x'), 0.8, 400, 5), { accepted: false, outcome: 'rejected' });
    // Cheaper than both but less accurate than both: dominates neither.
    assert.equal(board.offer(path('y'), 0.4, 100, 6).outcome, 'rejected');
    // Dominates only the 0.7 / 300 member.
    const r = board.offer(path('z'), 0.75, 250, 7);
    assert.equal(r.outcome, 'replaced');
    assert.equal(r.replaced?.key, JSON.stringify(path(1)));
    assert.deepEqual(
      board.entries().map((e) => e.key),
      [path(0), path('z')].map((a) => JSON.stringify(a)),
    );
  });

  test('equal accuracy with no more FLOPs enters; equal FLOPs with no less accuracy enters', () => {
    const board = filled(1, [[0.5, 200]]);
    assert.equal(board.offer(path('eqAcc'), 0.5, 150, 1).outcome, 'replaced');
    assert.equal(board.offer(path('eqFlops'), 0.6, 150, 2).outcome, 'replaced');
    // Exactly equal on both counts: ties favour the newcomer (fresher weights).
    assert.equal(board.offer(path('same'), 0.6, 150, 3).outcome, 'replaced');
    assert.equal(board.entries()[0].key, JSON.stringify(path('same')));
    // Equal accuracy but more FLOPs, equal FLOPs but less accuracy: rejected.
    assert.equal(board.offer(path('r1'), 0.6, 151, 4).outcome, 'rejected');
    assert.equal(board.offer(path('r2'), 0.59, 150, 5).outcome, 'rejected');
  });

  test('replaces the least competitive dominated member: lowest accuracy, then most FLOPs, then oldest', () => {
    // All four are dominated by (0.9, 100).
    let board = filled(4, [
      [0.6, 300],
      [0.4, 200],
      [0.5, 900],
      [0.8, 150],
    ]);
    assert.equal(board.offer(path('new'), 0.9, 100, 9).replaced?.key, JSON.stringify(path(1)));

    board = filled(3, [
      [0.4, 200],
      [0.4, 500],
      [0.4, 300],
    ]);
    assert.equal(board.offer(path('new'), 0.9, 100, 9).replaced?.key, JSON.stringify(path(1)));

    // Same accuracy and FLOPs: the one that entered earliest leaves, by step ...
    board = new PrioritizedBoard(3);
    board.offer(path('late'), 0.4, 200, 7);
    board.offer(path('early'), 0.4, 200, 3);
    board.offer(path('other'), 0.9, 10, 8);
    assert.equal(board.offer(path('new'), 0.5, 100, 9).replaced?.key, JSON.stringify(path('early')));
    // ... and by order of entry within a step.
    board = filled(2, [
      [0.4, 200],
      [0.4, 200],
    ]);
    board = PrioritizedBoard.fromJSON({
      ...board.toJSON(),
      entries: board.entries().map((e) => ({ ...e, enteredAtStep: 5 })),
    });
    assert.equal(board.offer(path('new'), 0.5, 100, 9).replaced?.key, JSON.stringify(path(0)));
  });

  test('an undominated member is never the one replaced', () => {
    // (0.3, 100) is the least accurate but is not dominated by (0.5, 200): it must stay.
    const board = filled(2, [
      [0.3, 100],
      [0.45, 250],
    ]);
    assert.equal(board.offer(path('new'), 0.5, 200, 3).replaced?.key, JSON.stringify(path(1)));
  });

  test('duplicates refresh the score instead of entering twice', () => {
    const board = filled(2, [
      [0.5, 200],
      [0.7, 300],
    ]);
    const r = board.offer(path(0), 0.2, 200, 10);
    assert.deepEqual(r, { accepted: true, outcome: 'rescored' });
    assert.equal(board.size, 2);
    const e = board.get(path(0));
    assert.equal(e?.accuracy, 0.2);
    assert.equal(e?.enteredAtStep, 0, 'a refresh keeps the entry step');
    assert.deepEqual(board.history().at(-1), {
      kind: 'rescore',
      step: 10,
      key: JSON.stringify(path(0)),
      accuracy: 0.2,
      flops: 200,
      previousAccuracy: 0.5,
    });
    // Same arch, built as a fresh array: still the same path.
    assert.equal(board.offer([['op1']], 0.71, 300, 11).outcome, 'rescored');
    assert.throws(() => board.offer(path(1), 0.7, 301, 12), /300 FLOPs but was offered with 301/);
  });

  test('rescore refreshes every member and records it', () => {
    const board = filled(3, [
      [0.5, 200],
      [0.7, 300],
      [0.6, 100],
    ]);
    board.rescore((e) => e.flops / 1000, 20);
    assert.deepEqual(
      board.entries().map((e) => e.accuracy),
      [0.2, 0.3, 0.1],
    );
    const rescores = board.history().filter((h) => h.kind === 'rescore');
    assert.equal(rescores.length, 3);
    assert.ok(rescores.every((h) => h.step === 20));
    // A failing scorer changes nothing.
    assert.throws(() => board.rescore((e) => (e.flops === 300 ? Number.NaN : 1), 21), /not finite/);
    assert.deepEqual(
      board.entries().map((e) => e.accuracy),
      [0.2, 0.3, 0.1],
    );
  });

  test('best(): highest accuracy, ties fewer FLOPs', () => {
    const board = new PrioritizedBoard(4);
    assert.equal(board.best(), undefined);
    board.offer(path('a'), 0.7, 300, 0);
    board.offer(path('b'), 0.8, 500, 1);
    board.offer(path('c'), 0.8, 400, 2);
    board.offer(path('d'), 0.1, 50, 3);
    assert.equal(board.best()?.key, JSON.stringify(path('c')));
  });

  test('history records entries, exits and rescores with step, accuracy and FLOPs', () => {
    const board = filled(1, [[0.5, 200]]);
    board.offer(path('b'), 0.6, 100, 4);
    board.offer(path('b'), 0.65, 100, 5);
    assert.deepEqual(board.history(), [
      { kind: 'enter', step: 0, key: '[["op0"]]', accuracy: 0.5, flops: 200 },
      { kind: 'exit', step: 4, key: '[["op0"]]', accuracy: 0.5, flops: 200, replacedBy: '[["opb"]]' },
      { kind: 'enter', step: 4, key: '[["opb"]]', accuracy: 0.6, flops: 100, replaces: '[["op0"]]' },
      { kind: 'rescore', step: 5, key: '[["opb"]]', accuracy: 0.65, flops: 100, previousAccuracy: 0.6 },
    ]);
  });

  test('returned entries are copies', () => {
    const board = filled(1, [[0.5, 200]]);
    const e = board.entries()[0];
    e.arch[0][0] = 'mutated';
    e.accuracy = 99;
    assert.deepEqual(board.entries()[0].arch, path(0));
    assert.equal(board.entries()[0].accuracy, 0.5);
  });

  test('bad input is rejected with a message naming it', () => {
    assert.throws(() => new PrioritizedBoard(0), /capacity must be a positive integer, got 0/);
    const board = new PrioritizedBoard(2);
    assert.throws(() => board.offer([], 0.5, 1, 0), BoardError);
    assert.throws(() => board.offer([['a'], []], 0.5, 1, 0), /stage 1 must be a non-empty list/);
    assert.throws(() => board.offer(path(1), Number.NaN, 1, 0), /accuracy must be a finite number, got NaN/);
    assert.throws(() => board.offer(path(1), 0.5, -1, 0), /flops must be a finite non-negative number/);
    assert.throws(() => board.offer(path(1), 0.5, 1, 1.5), /step must be a non-negative integer, got 1.5/);
  });
});

describe('PrioritizedBoard guarantees on a random stream', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    test(`seed ${seed}: rejected paths dominate no member; evicted paths are dominated by a member`, () => {
      const random = rng(seed);
      const k = 1 + Math.floor(random() * 12);
      const board = new PrioritizedBoard(k);
      const rejected: { accuracy: number; flops: number }[] = [];
      const evicted: { accuracy: number; flops: number }[] = [];
      let bestAcc = Number.NEGATIVE_INFINITY;
      let minFlops = Number.POSITIVE_INFINITY;
      for (let step = 0; step < 3000; step++) {
        // Coarse grids make ties in accuracy and in FLOPs common.
        const accuracy = Math.floor(random() * 50) / 50;
        const flops = 100 + Math.floor(random() * 40) * 10;
        const r = board.offer(path(step), accuracy, flops, step);
        if (r.outcome === 'rejected') {
          assert.ok(board.isFull, 'only a full board rejects');
          rejected.push({ accuracy, flops });
        }
        if (r.replaced) {
          assert.ok(weaklyDominates({ accuracy, flops }, r.replaced), 'a newcomer replaces only a member it dominates');
          evicted.push(r.replaced);
        }
        const members = board.entries();
        // Invariants that hold after every offer, not only at the end.
        const nowBest = Math.max(...members.map((m) => m.accuracy));
        const nowMin = Math.min(...members.map((m) => m.flops));
        assert.ok(nowBest >= bestAcc, 'best accuracy never drops');
        assert.ok(nowMin <= minFlops, 'lowest FLOPs never rise');
        bestAcc = nowBest;
        minFlops = nowMin;
        if (step % 300 === 0 || step === 2999) {
          for (const p of rejected) {
            for (const m of members) assert.ok(!weaklyDominates(p, m), 'a rejected path dominates no member');
          }
          for (const p of evicted) {
            assert.ok(
              members.some((m) => weaklyDominates(m, p)),
              'an evicted path is dominated by some member',
            );
          }
        }
      }
      assert.ok(rejected.length > 0 && evicted.length > 0, 'the stream exercises both outcomes');
      assert.equal(board.size, k);
      assert.equal(new Set(board.entries().map((e) => e.key)).size, k);
    });
  }

  test('the board need not be a Pareto front (members may dominate each other)', () => {
    // Documents the limit of Eq. 3: the first K enter unconditionally and a newcomer evicts one.
    const board = filled(2, [
      [0.1, 900],
      [0.2, 800],
    ]);
    board.offer(path('star'), 0.9, 100, 5);
    const [a, b] = board.entries();
    assert.ok(weaklyDominates(b, a));
  });
});

describe('PrioritizedBoard JSON', () => {
  test('exact round trip through JSON text, and the restored board behaves identically', () => {
    const random = rng(42);
    const board = new PrioritizedBoard(5);
    const arch = (i: number): BoardArch => [[`k${i % 3}`, 'skip'], [`e${i}`]];
    for (let step = 0; step < 200; step++) {
      board.offer(arch(step % 37), random(), (step % 37) * 1e7 + 3e8, step);
      if (step % 50 === 49) board.rescore(() => random() / 3, step);
    }
    const text = JSON.stringify(board);
    const restored = PrioritizedBoard.fromJSON(JSON.parse(text));
    assert.equal(JSON.stringify(restored), text);
    assert.deepEqual(restored.toJSON(), board.toJSON());
    assert.equal(restored.capacity, 5);
    for (let step = 200; step < 260; step++) {
      const acc = random();
      assert.deepEqual(
        restored.offer(arch(step % 41), acc, (step % 41) * 1e7 + 3e8, step),
        board.offer(arch(step % 41), acc, (step % 41) * 1e7 + 3e8, step),
      );
    }
    assert.equal(JSON.stringify(restored), JSON.stringify(board));
  });

  test('fromJSON rejects malformed boards, naming the field', () => {
    const good = filled(2, [
      [0.5, 200],
      [0.7, 300],
    ]).toJSON();
    const bad = (patch: object) => () => PrioritizedBoard.fromJSON({ ...good, ...patch });
    assert.throws(bad({ format: 'x' }), /board.format/);
    assert.throws(bad({ version: 2 }), /board.version/);
    assert.throws(bad({ capacity: 1 }), /2 entries exceed the capacity 1/);
    assert.throws(bad({ entries: [{ ...good.entries[0], key: 'nope' }] }), /board.entries\[0\].key/);
    assert.throws(bad({ entries: [good.entries[0], good.entries[0]] }), /board.entries\[1\]: duplicate path/);
    assert.throws(bad({ entries: [{ ...good.entries[0], extra: 1 }] }), /board.entries\[0\].extra: unknown field/);
    assert.throws(bad({ entries: [{ ...good.entries[0], accuracy: null }] }), /accuracy must be a finite number/);
    assert.throws(bad({ history: [{ ...good.history[0], kind: 'leave' }] }), /board.history\[0\].kind/);
    assert.throws(() => PrioritizedBoard.fromJSON(null), /board: expected an object/);
  });
});
