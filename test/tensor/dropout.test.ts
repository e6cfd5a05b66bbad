import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backward, dropout, getThreads, noGrad, setThreads, Tensor, tidy } from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';

describe('dropout', () => {
  test('keeps about 1 - p of the elements, scaled by 1 / (1 - p)', () => {
    const n = 200_000;
    const x = Tensor.full([n], 1);
    for (const p of [0.1, 0.3, 0.5, 0.9]) {
      const y = noGrad(() => dropout(x, p, 1234, true));
      let kept = 0;
      for (const v of y.f32) {
        if (v !== 0) {
          kept++;
          assert.equal(v, Math.fround(1 / (1 - p)));
        }
      }
      // Binomial standard deviation is at most 0.0012 here; allow 5 of them.
      assert.ok(Math.abs(kept / n - (1 - p)) < 0.006, `p ${p}: kept ${kept / n}`);
    }
  });

  test('the mask has no visible structure: neighbours and halves are independent', () => {
    const n = 100_000;
    const y = noGrad(() => dropout(Tensor.full([n], 1), 0.5, 99, true)).f32;
    let both = 0;
    for (let i = 0; i + 1 < n; i++) if (y[i] !== 0 && y[i + 1] !== 0) both++;
    assert.ok(Math.abs(both / (n - 1) - 0.25) < 0.01, `adjacent pairs kept together: ${both / (n - 1)}`);
    const a = noGrad(() => dropout(Tensor.full([n], 1), 0.5, 100, true)).f32;
    let same = 0;
    for (let i = 0; i < n; i++) if ((a[i] !== 0) === (y[i] !== 0)) same++;
    assert.ok(Math.abs(same / n - 0.5) < 0.01, `seeds 99 and 100 agree on ${same / n}`);
  });

  test('deterministic for a seed, at any thread count', () => {
    const rand = testRandom(1);
    const x = randomTensor([300, 257], rand);
    const threads = getThreads();
    const runs = [1, threads, 1].map((t) => {
      setThreads(t);
      return noGrad(() => dropout(x, 0.2, 42, true)).toArray();
    });
    setThreads(threads);
    assert.deepEqual(runs[0], runs[1]);
    assert.deepEqual(runs[0], runs[2]);
    const other = noGrad(() => dropout(x, 0.2, 43, true)).toArray();
    assert.notDeepEqual(runs[0], other);
  });

  test('identity in eval mode and at p = 0; p = 1 drops everything', () => {
    const x = Tensor.from([1, 2, 3, 4]);
    assert.deepEqual(noGrad(() => dropout(x, 0.5, 1, false)).toArray(), [1, 2, 3, 4]);
    assert.deepEqual(noGrad(() => dropout(x, 0, 1, true)).toArray(), [1, 2, 3, 4]);
    assert.deepEqual(noGrad(() => dropout(x, 1, 1, true)).toArray(), [0, 0, 0, 0]);
    x.requiresGrad = true;
    tidy(() => backward(dropout(x, 0.5, 1, false), Tensor.from([1, 1, 1, 1])));
    assert.deepEqual(x.grad!.toArray(), [1, 1, 1, 1]);
  });

  test('backward applies the same mask; finite differences agree', () => {
    const rand = testRandom(3);
    const x = randomTensor([1000], rand);
    x.requiresGrad = true;
    let y: number[] = [];
    tidy(() => {
      const out = dropout(x, 0.4, 7, true);
      y = out.toArray();
      backward(out, Tensor.full([1000], 1));
    });
    const g = x.grad!.toArray();
    y.forEach((v, i) => {
      assert.equal(g[i], v === 0 ? 0 : Math.fround(1 / 0.6));
    });
    gradCheck(([xi]) => dropout(xi, 0.3, 5, true), [randomTensor([7, 9], rand)], { eps: 1e-2, tolerance: 1e-2 });
  });

  test('errors name the argument', () => {
    const x = Tensor.zeros([3]);
    assert.throws(() => dropout(x, 1.5, 1, true), /dropout: p must be in \[0, 1\], got 1.5/);
    assert.throws(() => dropout(x, 0.5, 0.5, true), /dropout: seed must be an integer, got 0.5/);
  });
});
