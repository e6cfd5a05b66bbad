/**
 * Rank correlations between two scorings of the same architectures, e.g. supernet accuracy vs
 * accuracy trained from scratch (CREAM.md §5: the paper reports Kendall tau over 30 subnets).
 *
 * Both handle ties the way scipy.stats does by default, so numbers are comparable with published
 * ones: `kendallTau` is tau-b (scipy `kendalltau(variant='b')`), `spearmanRho` is the Pearson
 * correlation of average ranks (scipy `spearmanr`). When either input is constant the correlation
 * is undefined and both return NaN, as scipy does.
 */

/** Kendall's tau-b. O(n^2) pair counting: exact, and fast enough for n up to a few thousand. */
export function kendallTau(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y, 'kendallTau');
  const n = x.length;
  // tau_b = (concordant - discordant) / sqrt((pairs untied in x) * (pairs untied in y)).
  // A pair tied in one input only contributes to the other's untied count, never to the numerator.
  let s = 0;
  let untiedX = 0;
  let untiedY = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const yi = y[i];
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(xi - x[j]);
      const dy = Math.sign(yi - y[j]);
      s += dx * dy;
      if (dx !== 0) untiedX++;
      if (dy !== 0) untiedY++;
    }
  }
  if (untiedX === 0 || untiedY === 0) return Number.NaN;
  // Each count is an exact integer below 2^53, so only the final division rounds.
  return clampUnit(s / Math.sqrt(untiedX * untiedY));
}

/** Spearman's rho: Pearson correlation of the average ranks (ties share the mean of their ranks). */
export function spearmanRho(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y, 'spearmanRho');
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * 1-based ranks, ties getting the mean of the ranks they span (scipy `rankdata(method='average')`):
 * [10, 20, 20, 30] -> [1, 2.5, 2.5, 4].
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(values[i])) throw new RangeError(`averageRanks: value ${i} is NaN; ranks need ordered values`);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  const ranks = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    // Positions start..end-1 hold equal values: ranks start+1..end, mean (start + 1 + end) / 2.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a[i];
    meanB += b[i];
  }
  meanA /= n;
  meanB /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - meanA;
    const db = b[i] - meanB;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return Number.NaN;
  return clampUnit(sab / Math.sqrt(saa * sbb));
}

/** Rounding can push a perfect correlation a hair past 1; report it as exactly +-1. */
function clampUnit(r: number): number {
  return Math.max(-1, Math.min(1, r));
}

function checkPaired(x: ArrayLike<number>, y: ArrayLike<number>, fn: string): void {
  if (x.length !== y.length) {
    throw new RangeError(`${fn}: x and y must pair up, got ${x.length} and ${y.length} values`);
  }
  if (x.length < 2) throw new RangeError(`${fn}: needs at least 2 pairs, got ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) {
      throw new RangeError(`${fn}: pair ${i} is (${x[i]}, ${y[i]}); every value must be a finite number`);
    }
  }
}
