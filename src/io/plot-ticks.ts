/**
 * Axis ticks at round values (1, 2 or 5 times a power of ten) and their labels. The axis range
 * is widened to whole ticks, so the data never touches the frame at an odd value.
 */

export interface Ticks {
  /** Axis range, both ends on ticks. */
  min: number;
  max: number;
  step: number;
  values: number[];
  /** One label per value, sharing one format (same decimals, or the same exponent). */
  labels: string[];
}

/** Round ticks covering [lo, hi], about `target` of them (Heckbert's "nice numbers"). */
export function niceTicks(lo: number, hi: number, target = 6): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) {
    throw new RangeError(`niceTicks: need finite lo <= hi, got [${lo}, ${hi}]`);
  }
  if (lo === hi) {
    // A flat series still needs an axis: widen by 10% of the value (or by 1 around zero).
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceNumber((hi - lo) / Math.max(1, target - 1));
  // The small epsilon keeps 0.3 / 0.1 = 2.9999999999999996 from adding a needless tick.
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const values: number[] = [];
  for (let k = first; k <= last; k++) values.push(Number((k * step).toPrecision(12)));
  return { min: values[0], max: values[values.length - 1], step, values, labels: formatTicks(values, step) };
}

/** The value among 1, 2, 5, 10 times a power of ten nearest to `x`. */
function niceNumber(x: number): number {
  const exponent = Math.floor(Math.log10(x));
  const fraction = x / 10 ** exponent;
  const nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * 10 ** exponent;
}

/**
 * Labels with just enough decimals to tell neighbours apart; values of 1e6 and above (FLOPs) or
 * steps below 1e-4 get a shared exponent instead ("2.5e8"), which the bitmap font can draw.
 */
export function formatTicks(values: number[], step: number): string[] {
  const stepExponent = Math.floor(Math.log10(step) + 1e-9);
  const largest = Math.max(...values.map(Math.abs));
  if (largest >= 1e6 || (step < 1e-4 && largest > 0)) {
    const exponent = Math.floor(Math.log10(largest) + 1e-9);
    const decimals = Math.max(0, exponent - stepExponent);
    return values.map((v) => (v === 0 ? '0' : `${(v / 10 ** exponent).toFixed(decimals)}e${exponent}`));
  }
  const decimals = Math.max(0, -stepExponent);
  return values.map((v) => {
    const s = v.toFixed(decimals);
    return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s; // no "-0.0" from rounding noise
  });
}
