// Batch-1 inference latency as the paper reports it (one image, one CPU thread): the median of
// many forward passes after a warm-up, without the tape. The kernels' thread count is set to the
// requested one for the measurement and restored afterwards.
import { getThreads, noGrad, setThreads, Tensor, tidy } from '../tensor/index.ts';

export interface LatencyOptions {
  /** Timed forward passes (default 200). */
  runs?: number;
  /** Untimed passes first: oneDNN builds its kernels, caches warm up (default 20). */
  warmup?: number;
  /** Kernel threads during the measurement (default 1). */
  threads?: number;
}

export interface LatencyResult {
  /** Milliseconds per forward pass. */
  medianMs: number;
  meanMs: number;
  minMs: number;
  p90Ms: number;
  runs: number;
  warmup: number;
  threads: number;
  /** [N, H, W, C] of the input used. */
  inputShape: number[];
}

function percentile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Times `forward` (a network in eval mode) on one input of `inputShape` ([1, H, W, C] for batch-1
 * latency) filled with a fixed pattern; the output of each pass is freed at once.
 */
export function measureLatency(
  forward: (x: Tensor) => Tensor,
  inputShape: readonly number[],
  opts: LatencyOptions = {},
): LatencyResult {
  const runs = opts.runs ?? 200;
  const warmup = opts.warmup ?? 20;
  const threads = opts.threads ?? 1;
  if (!(Number.isInteger(runs) && runs >= 1)) throw new RangeError(`latency runs must be an integer >= 1, got ${runs}`);
  if (!(Number.isInteger(warmup) && warmup >= 0))
    throw new RangeError(`latency warm-up must be an integer >= 0, got ${warmup}`);
  const before = getThreads();
  setThreads(threads);
  const x = Tensor.empty(inputShape);
  const d = x.f32;
  for (let i = 0; i < d.length; i++) d[i] = Math.sin(i * 0.37);
  const times: number[] = [];
  try {
    noGrad(() => {
      for (let i = 0; i < warmup + runs; i++) {
        const t0 = performance.now();
        tidy(() => {
          forward(x);
        });
        if (i >= warmup) times.push(performance.now() - t0);
      }
    });
  } finally {
    x.dispose();
    setThreads(before);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    medianMs: percentile(sorted, 0.5),
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    minMs: sorted[0],
    p90Ms: percentile(sorted, 0.9),
    runs,
    warmup,
    threads,
    inputShape: [...inputShape],
  };
}
