import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { averageRanks, kendallTau, spearmanRho } from '../../src/eval/rank-correlation.ts';

const close = (actual: number, expected: number, tol = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

describe('averageRanks', () => {
  test('ties share the mean of their ranks', () => {
    assert.deepEqual([...averageRanks([10, 20, 20, 30])], [1, 2.5, 2.5, 4]);
    assert.deepEqual([...averageRanks([3, 1, 3, 3, 2])], [4, 1, 4, 4, 2]);
    assert.throws(() => averageRanks([1, Number.NaN]), /value 1 is NaN/);
  });
});

describe('Kendall tau-b and Spearman rho, worked by hand', () => {
  test('one tie in each input', () => {
    // x = [1, 2, 2, 3], y = [1, 3, 2, 3]; the 6 pairs (i, j) with sign(dx) * sign(dy):
    //   (0,1) +1  (0,2) +1  (0,3) +1  (1,2) x tied: 0  (1,3) y tied: 0  (2,3) +1   -> S = 4
    //   pairs untied in x: 6 - 1 = 5; untied in y: 6 - 1 = 5    -> tau_b = 4 / sqrt(5 * 5) = 0.8
    // Average ranks: x -> [1, 2.5, 2.5, 4], y -> [1, 3.5, 2, 3.5], both means 2.5.
    //   deviations x [-1.5, 0, 0, 1.5], y [-1.5, 1, -0.5, 1]
    //   sum dx*dy = 2.25 + 1.5 = 3.75; sum dx^2 = 4.5; sum dy^2 = 2.25 + 1 + 0.25 + 1 = 4.5
    //   -> rho = 3.75 / 4.5 = 5/6
    // scipy 1.17.1 gives 0.7999999999999999 and 0.8333333333333335.
    close(kendallTau([1, 2, 2, 3], [1, 3, 2, 3]), 0.8);
    close(spearmanRho([1, 2, 2, 3], [1, 3, 2, 3]), 5 / 6);
  });

  test('negative association with two tied groups in y', () => {
    // x = [1, 2, 3, 4, 5], y = [5, 5, 3, 1, 1]: of the 10 pairs, (0,1) and (3,4) tie in y and
    //   the other 8 are discordant -> S = -8; untied x 10, untied y 8
    //   -> tau_b = -8 / sqrt(80) = -2 / sqrt(5)
    // Ranks: x [1..5] (mean 3), y [4.5, 4.5, 3, 1.5, 1.5] (mean 3)
    //   sum dx*dy = -3 - 1.5 + 0 - 1.5 - 3 = -9; sum dx^2 = 10; sum dy^2 = 4 * 2.25 = 9
    //   -> rho = -9 / sqrt(90) = -3 / sqrt(10)
    close(kendallTau([1, 2, 3, 4, 5], [5, 5, 3, 1, 1]), -2 / Math.sqrt(5));
    close(spearmanRho([1, 2, 3, 4, 5], [5, 5, 3, 1, 1]), -3 / Math.sqrt(10));
  });

  test('perfect agreement and reversal are exactly +-1; a constant input gives NaN', () => {
    const x = [0.1, 0.5, 0.3, 0.9, 0.7];
    assert.equal(kendallTau(x, x), 1);
    assert.equal(spearmanRho(x, x), 1);
    assert.equal(
      kendallTau(
        x,
        x.map((v) => -v),
      ),
      -1,
    );
    assert.equal(
      spearmanRho(
        x,
        x.map((v) => -3 * v),
      ),
      -1,
    );
    assert.ok(Number.isNaN(kendallTau(x, [2, 2, 2, 2, 2])));
    assert.ok(Number.isNaN(spearmanRho([2, 2, 2, 2, 2], x)));
  });

  test('input errors name the problem', () => {
    assert.throws(() => kendallTau([1, 2], [1]), /must pair up, got 2 and 1 values/);
    assert.throws(() => spearmanRho([1], [1]), /at least 2 pairs/);
    assert.throws(() => kendallTau([1, Number.NaN], [1, 2]), /pair 1 is \(NaN, 2\)/);
  });
});

describe('agreement with scipy.stats', () => {
  // Reference values from scipy 1.17.1 / numpy 2.4.6:
  //   scipy.stats.kendalltau(x, y).statistic  (tau-b, the default)
  //   scipy.stats.spearmanr(x, y).statistic

  test('30 subnets, accuracies rounded so that ties occur', () => {
    // Produced by: rng = np.random.default_rng(7); true = rng.uniform(60, 75, 30);
    //   sup = true * 0.4 + rng.normal(0, 2.5, 30) + 30; true = round(true * 2) / 2; sup = round(sup)
    const fromScratch = [
      69.5, 73.5, 71.5, 63.5, 64.5, 73.0, 60.0, 72.5, 72.0, 67.0, 64.5, 64.0, 64.0, 66.5, 67.5, 68.5, 75.0, 72.0, 69.5,
      75.0, 63.0, 62.5, 69.0, 60.5, 60.5, 67.5, 67.0, 74.0, 69.5, 67.5,
    ];
    const supernet = [
      54, 58, 56, 53, 58, 57, 54, 61, 57, 57, 56, 56, 52, 57, 60, 53, 62, 59, 56, 65, 57, 52, 58, 56, 54, 59, 57, 61,
      61, 55,
    ];
    close(kendallTau(fromScratch, supernet), 0.5142457789297902);
    close(spearmanRho(fromScratch, supernet), 0.654290949507236);
  });

  test('500 points on integer grids, heavy ties (x = 37i mod 23, y = (13i^2 + 7) mod 17 + i mod 5)', () => {
    const n = 500;
    const x = Array.from({ length: n }, (_, i) => (i * 37) % 23);
    const y = Array.from({ length: n }, (_, i) => ((i * i * 13 + 7) % 17) + (i % 5));
    close(kendallTau(x, y), -0.006753770333259729);
    close(spearmanRho(x, y), -0.013150856129163715);
  });

  test('500 nearly monotone points (x = 7919i mod 1009, y = 3x + i mod 11)', () => {
    const n = 500;
    const x = Array.from({ length: n }, (_, i) => (i * 7919) % 1009);
    const y = x.map((v, i) => v * 3 + (i % 11));
    close(kendallTau(x, y), 0.999198396793587);
    close(spearmanRho(x, y), 0.9999948159792639);
  });
});
