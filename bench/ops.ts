// Per-op benchmark: forward and forward+backward GFLOP/s of the engine's ops at the search space's
// shapes (batch 128), next to PyTorch measured in the same run by bench/torch_reference.py.
//
//   node --import tsx bench/ops.ts --json [--runs 10] [--warmup 3] [--rounds 3] [--only pointwise] [--no-torch]
//
// One JSON object per line: {op, kind, shape, fwdGflops, fwdBwdGflops, torchFwdBwdGflops, ratio, ...}
// (ratio = ours / PyTorch for forward+backward, medians), then {"op":"overhead", ...} with the per-call
// cost. PyTorch measures each case right after the engine does (a child process on a line protocol),
// so both see the same machine load. PyTorch's OpenMP setting (its default wait or the engine's
// short spin, one process each) and layout (NCHW or channels_last) are chosen per case first, in
// windows that do not count; then the two alternate --rounds R times, one window each, and the
// round with the median ratio is reported (roundRatios lists all), as the machine's speed drifts
// within seconds.
// The cases and their FLOP counts are in bench/op-cases.ts; for BN and activations (nominal FLOPs),
// compare the ratio or the times (fwdMs, fwdBwdMs). Ops that do not exist yet in src/tensor are
// skipped with a note.
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import * as tensor from '../src/tensor/index.ts';
import { backward, getThreads, native, noGrad, setThreads, Tensor, tidy } from '../src/tensor/index.ts';
import { openmpWaitEnv } from '../src/tensor/native.ts';
import { type OpCase, type OpCaseSpec, type OpKind, op, opCases } from './op-cases.ts';
import { BestOfTorch, TorchReference, type TorchResult } from './torch-reference.ts';

export interface OpBenchRow {
  op: string;
  kind: OpKind;
  shape: number[];
  fwdGflops: number;
  fwdBwdGflops: number;
  torchFwdBwdGflops: number | null;
  ratio: number | null;
  torchFwdGflops: number | null;
  /** PyTorch's layout and its forward+backward GFLOP/s in the windows that chose it (not counted). */
  torchLayout: string | null;
  torchChoiceFwdBwdGflops: number | null;
  /** From the fastest run of each side (medians suffer when other processes share the cores). */
  fwdBwdGflopsBest: number;
  torchFwdBwdGflopsBest: number | null;
  fwdMs: number;
  fwdBwdMs: number;
  /** Forward+backward ratio of each round (ours then PyTorch), in order. */
  roundRatios: number[];
  params: Omit<OpCaseSpec, 'op' | 'kind' | 'shape' | 'fwdFlops' | 'fwdBwdFlops'>;
}

export interface OverheadRow {
  op: 'overhead';
  /** native.noop(): one JS -> C++ -> JS round trip. */
  noopUs: number;
  /** native.add on 8-element arrays (argument unwrapping included). */
  nativeAdd8Us: number;
  /** add() op on 8-element tensors: allocation, kernel, dispose (inference). */
  add8Us: number;
  /** add() recorded on the tape, backward, in a tidy scope. */
  add8FwdBwdUs: number;
  torchAdd8Us: number | null;
}

export interface OpBenchOptions {
  runs?: number;
  warmup?: number;
  /** Alternations of ours then PyTorch per case (default 1). */
  rounds?: number;
  batch?: number;
  /** Only cases whose op or kind contains this string. */
  only?: string;
  torch?: boolean;
  threads?: number;
  log?: (msg: string) => void;
  /** Called as each case finishes (to stream output). */
  onRow?: (row: OpBenchRow) => void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Timing {
  /** Median wall time, ms. */
  ms: number;
  /** Fastest run, ms: what the kernels can do when no other process takes a core. */
  bestMs: number;
}

// Sub-millisecond ops need more than a handful of calls: the first calls of a case run
// unoptimised JS (tape, scopes) and a few timed calls are at the mercy of one scheduler hiccup.
// So both loops also run for a minimum time; bench/torch_reference.py applies the same rule.
const MIN_WARMUP_MS = 100;
const MIN_TIMED_MS = 100;
const MAX_TIMED_RUNS = 1000;

/**
 * Wall time of `fn`: at least `warmup` untimed calls (and MIN_WARMUP_MS), then at least `runs`
 * timed calls (and MIN_TIMED_MS, up to MAX_TIMED_RUNS).
 */
function timeMs(fn: () => void, runs: number, warmup: number): Timing {
  const warmStart = performance.now();
  for (let i = 0; i < warmup || performance.now() - warmStart < MIN_WARMUP_MS; i++) fn();
  const times: number[] = [];
  let total = 0;
  while (times.length < runs || (total < MIN_TIMED_MS && times.length < MAX_TIMED_RUNS)) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    times.push(dt);
    total += dt;
  }
  return { ms: median(times), bestMs: Math.min(...times) };
}

function measureCase(c: OpCase, runs: number, warmup: number): { fwd: Timing; fwdBwd: Timing } {
  const { forward, params, x } = c.setup();
  const gy = tensor.keep(noGrad(() => tidy(() => forward().clone())));
  gy.f32.fill(1e-3);
  const clearGrads = () => {
    for (const p of [...params, x]) {
      p.grad?.dispose();
      p.grad = null;
    }
  };
  const fwd = timeMs(() => noGrad(() => tidy(() => void forward())), runs, warmup);
  const fwdBwd = timeMs(
    () => {
      tidy(() => backward(forward(), gy));
      clearGrads();
    },
    runs,
    warmup,
  );
  for (const t of [...params, x, gy]) t.dispose();
  return { fwd, fwdBwd };
}

function specOf(c: OpCase): OpCaseSpec {
  const { needs: _n, setup: _s, ...spec } = c;
  return spec;
}

function measureOverhead(): Omit<OverheadRow, 'torchAdd8Us' | 'op'> {
  const perCallUs = (fn: () => void, n: number) => {
    for (let i = 0; i < n / 10; i++) fn();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    return ((performance.now() - t0) * 1000) / n;
  };
  const a = tensor.keep(Tensor.full([8], 1));
  const b = tensor.keep(Tensor.full([8], 2));
  const o = new Float32Array(8);
  const noopUs = perCallUs(() => native.noop(), 1_000_000);
  const nativeAdd8Us = perCallUs(() => native.add(a.f32, b.f32, o), 500_000);
  const add8Us = noGrad(() => perCallUs(() => tensor.add(a, b).dispose(), 200_000));
  const p = Tensor.full([8], 1).asParameter();
  const g = tensor.keep(Tensor.full([8], 1));
  const add8FwdBwdUs = perCallUs(() => {
    tidy(() => backward(tensor.add(p, b), g));
    p.grad?.dispose();
    p.grad = null;
  }, 50_000);
  for (const t of [a, b, p, g]) t.dispose();
  return { noopUs, nativeAdd8Us, add8Us, add8FwdBwdUs };
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Measures every case in the engine, then in PyTorch (never both at once), case by case. */
export async function runOpsBench(
  options: OpBenchOptions = {},
): Promise<{ rows: OpBenchRow[]; overhead: OverheadRow }> {
  const runs = options.runs ?? 10;
  const warmup = options.warmup ?? 3;
  const rounds = options.rounds ?? 1;
  const threads = options.threads ?? getThreads();
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  setThreads(threads);
  const cases = opCases(options.batch ?? 128).filter((c) => {
    if (options.only && !c.op.includes(options.only) && !c.kind.includes(options.only)) return false;
    const missing = c.needs.filter((n) => !op(n));
    if (missing.length > 0)
      log(`bench ops: skipping ${c.op} ${JSON.stringify(c.shape)}: op ${missing.join(', ')} not in src/tensor yet`);
    return missing.length === 0;
  });
  // PyTorch's best of two OpenMP wait settings, each in its own process: its own default (fastest on
  // a quiet machine) and the engine's short spin (fastest under load, where the default collapses).
  const torches =
    options.torch === false
      ? []
      : (
          await Promise.all(
            [process.env, openmpWaitEnv()].map((env) => TorchReference.start({ runs, warmup, threads }, log, env)),
          )
        ).filter((t): t is TorchReference => t !== null);
  const torch = torches.length > 0 ? new BestOfTorch(torches) : null;
  const load = os.loadavg()[0];
  if (load > 0.5) {
    log(`bench ops: load average ${load.toFixed(2)} at start: other processes share the cores, medians will suffer`);
  }

  const rows: OpBenchRow[] = [];
  try {
    for (const c of cases) {
      const spec = specOf(c);
      // PyTorch's OpenMP setting and layout for this case are chosen first, in windows that do not
      // count; each round then gives both sides one window (a best of several windows over time
      // would favour the side that gets more of them).
      const choice = torch ? await torch.choose(spec) : null;
      const measured: { ours: ReturnType<typeof measureCase>; t: TorchResult | { error: string } | null }[] = [];
      for (let r = 0; r < rounds; r++) {
        const ours = measureCase(c, runs, warmup);
        const chosen = choice?.result;
        const t = chosen && 'layout' in chosen ? await choice.ref.measure(spec, chosen.layout) : (chosen ?? null);
        measured.push({ ours, t });
        if (t && 'error' in t) {
          log(`bench ops: PyTorch failed on ${c.op} ${JSON.stringify(c.shape)}: ${t.error}`);
          break;
        }
      }
      const ratioOf = (m: (typeof measured)[number]) =>
        m.t && 'fwdBwdGflops' in m.t ? c.fwdBwdFlops / m.ours.fwdBwd.ms / 1e6 / m.t.fwdBwdGflops : null;
      // The round with the median ratio (upper median for an even count); without PyTorch, our median time.
      const byRatio = [...measured].sort(
        (a, b) => (ratioOf(a) ?? 1 / a.ours.fwdBwd.ms) - (ratioOf(b) ?? 1 / b.ours.fwdBwd.ms),
      );
      const { ours, t } = byRatio[byRatio.length >> 1];
      const { fwd, fwdBwd } = ours;
      const tr = t && 'fwdBwdGflops' in t ? t : null;
      const fwdBwdGflops = c.fwdBwdFlops / fwdBwd.ms / 1e6;
      const { op: name, kind, shape, fwdFlops: _f, fwdBwdFlops: _fb, ...params } = spec;
      rows.push({
        op: name,
        kind,
        shape,
        fwdGflops: round(c.fwdFlops / fwd.ms / 1e6),
        fwdBwdGflops: round(fwdBwdGflops),
        torchFwdBwdGflops: tr ? round(tr.fwdBwdGflops) : null,
        ratio: tr ? round(fwdBwdGflops / tr.fwdBwdGflops) : null,
        torchFwdGflops: tr ? round(tr.fwdGflops) : null,
        torchLayout: tr ? tr.layout : null,
        torchChoiceFwdBwdGflops: choice && 'fwdBwdGflops' in choice.result ? round(choice.result.fwdBwdGflops) : null,
        fwdBwdGflopsBest: round(c.fwdBwdFlops / fwdBwd.bestMs / 1e6),
        torchFwdBwdGflopsBest: tr ? round(tr.fwdBwdGflopsBest) : null,
        fwdMs: round(fwd.ms, 3),
        fwdBwdMs: round(fwdBwd.ms, 3),
        roundRatios: measured
          .map(ratioOf)
          .filter((r): r is number => r !== null)
          .map((r) => round(r)),
        params,
      });
      options.onRow?.(rows[rows.length - 1]);
    }
    const ours = measureOverhead();
    const overhead: OverheadRow = {
      op: 'overhead',
      noopUs: round(ours.noopUs, 3),
      nativeAdd8Us: round(ours.nativeAdd8Us, 3),
      add8Us: round(ours.add8Us, 3),
      add8FwdBwdUs: round(ours.add8FwdBwdUs, 3),
      torchAdd8Us: torch ? round(await torch.add8Us(), 3) : null,
    };
    return { rows, overhead };
  } finally {
    torch?.close();
  }
}

function parseArgs(argv: string[]): OpBenchOptions & { json: boolean } {
  const opts: OpBenchOptions & { json: boolean } = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench ops: ${a} needs a value`);
      return v;
    };
    const int = (v: string, min = 1) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`bench ops: ${a} must be an integer >= ${min}, got ${v}`);
      return n;
    };
    if (a === '--json') opts.json = true;
    else if (a === '--runs') opts.runs = int(value());
    else if (a === '--warmup') opts.warmup = int(value(), 0);
    else if (a === '--rounds') opts.rounds = int(value());
    else if (a === '--batch') opts.batch = int(value());
    else if (a === '--threads') opts.threads = int(value());
    else if (a === '--only') opts.only = value();
    else if (a === '--no-torch') opts.torch = false;
    else throw new Error(`bench ops: unknown argument ${a}`);
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.json) opts.onRow = (r) => process.stdout.write(`${JSON.stringify(r)}\n`);
  const { rows, overhead } = await runOpsBench(opts);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(overhead)}\n`);
    return;
  }
  const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(1));
  console.log(
    'op'.padEnd(16),
    'kind'.padEnd(11),
    'shape'.padEnd(18),
    'fwd'.padStart(7),
    'fwd+bwd'.padStart(8),
    'torch'.padStart(7),
    'ratio'.padStart(6),
    'best'.padStart(7),
    'torch'.padStart(7),
    '  GFLOP/s (median; best: fastest run, fwd+bwd)',
  );
  for (const r of rows) {
    console.log(
      r.op.padEnd(16),
      r.kind.padEnd(11),
      r.shape.join('x').padEnd(18),
      fmt(r.fwdGflops).padStart(7),
      fmt(r.fwdBwdGflops).padStart(8),
      fmt(r.torchFwdBwdGflops).padStart(7),
      (r.ratio === null ? '-' : r.ratio.toFixed(2)).padStart(6),
      fmt(r.fwdBwdGflopsBest).padStart(7),
      fmt(r.torchFwdBwdGflopsBest).padStart(7),
    );
  }
  console.log(
    `overhead: noop ${overhead.noopUs} us, native add(8) ${overhead.nativeAdd8Us} us, add(8) op ${overhead.add8Us} us, add(8) fwd+bwd ${overhead.add8FwdBwdUs} us, torch add(8) ${overhead.torchAdd8Us ?? '-'} us`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
