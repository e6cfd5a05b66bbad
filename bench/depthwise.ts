// Depthwise convolution micro-benchmark: GFLOP/s of the hand-written kernels at the search space's
// shapes (batch 128, k 3/5/7), next to PyTorch measured in the same run by bench/torch_reference.py
// (best of NCHW and channels_last).
//
//   node --import tsx bench/depthwise.ts [--runs 10] [--warmup 2] [--threads 2] [--only k5] [--no-torch] [--json]
//
// FLOPs = 2 * N * Ho * Wo * C * k * k per pass (padding taps included, as for every engine);
// forward+backward = 3 passes. Columns: the op (autograd, as training uses it) forward and
// forward+backward, median and best run; the kernels alone per pass (best run); PyTorch; the ratio
// of the forward+backward medians. Best runs matter when other processes share the cores.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  backward,
  depthwiseConv2d,
  getThreads,
  keep,
  native,
  noGrad,
  setThreads,
  Tensor,
  tidy,
} from '../src/tensor/index.ts';

interface Case {
  shape: [number, number, number, number];
  k: number;
  stride: 1 | 2;
}

const SHAPES: [number, number, number, 1 | 2][] = [
  [28, 28, 96, 1],
  [28, 28, 144, 2],
  [14, 14, 144, 1],
  [14, 14, 240, 1],
  [7, 7, 240, 1],
  [7, 7, 480, 1],
  [4, 4, 480, 1],
  [4, 4, 576, 1],
];

function cases(batch: number): Case[] {
  return SHAPES.flatMap(([h, w, c, stride]) => [3, 5, 7].map((k) => ({ shape: [batch, h, w, c], k, stride }) as Case));
}

function flops({ shape: [n, h, w, c], k, stride }: Case): number {
  const out = (d: number) => Math.floor((d + 2 * (k >> 1) - k) / stride) + 1;
  return 2 * n * out(h) * out(w) * c * k * k;
}

function times(fn: () => void, runs: number, warmup: number): { median: number; best: number } {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { median: t[t.length >> 1], best: t[0] };
}

function random(shape: number[]): Tensor {
  const t = Tensor.empty(shape);
  for (let i = 0; i < t.size; i++) t.f32[i] = Math.random() * 2 - 1;
  return keep(t);
}

function measure(c: Case, runs: number, warmup: number) {
  const [n, h, w, ch] = c.shape;
  const padding = c.k >> 1;
  const x = random(c.shape);
  x.requiresGrad = true;
  const wt = random([c.k, c.k, ch]).asParameter();
  const y0 = noGrad(() => depthwiseConv2d(x, wt, { stride: c.stride }));
  const gy = random([...y0.shape]);
  const clear = () => {
    for (const t of [x, wt]) {
      t.grad?.dispose();
      t.grad = null;
    }
  };
  const fwd = times(() => noGrad(() => tidy(() => void depthwiseConv2d(x, wt, { stride: c.stride }))), runs, warmup);
  const fwdBwd = times(
    () => {
      tidy(() => backward(depthwiseConv2d(x, wt, { stride: c.stride }), gy));
      clear();
    },
    runs,
    warmup,
  );
  // The kernels alone: forward, input gradient, weight gradient, both gradients in one pass.
  const geo = [n, h, w, ch, c.k, c.k, c.stride, padding, padding];
  const gx = new Float32Array(x.size);
  const gw = new Float32Array(wt.size);
  const kernel = {
    fwd: times(() => native.depthwiseForward(x.f32, wt.f32, y0.f32, ...geo), runs, warmup).best,
    bwdInput: times(() => native.depthwiseBackwardInput(gy.f32, wt.f32, gx, ...geo), runs, warmup).best,
    bwdWeight: times(() => native.depthwiseBackwardWeight(x.f32, gy.f32, gw, ...geo), runs, warmup).best,
    bwd: times(() => native.depthwiseBackward(x.f32, gy.f32, wt.f32, gx, gw, ...geo), runs, warmup).best,
  };
  for (const t of [x, wt, y0, gy]) t.dispose();
  return { fwd, fwdBwd, kernel };
}

interface TorchResult {
  fwdGflops: number;
  fwdBwdGflops: number;
  fwdBwdGflopsBest: number;
  layout: string;
}

function runTorch(list: Case[], runs: number, warmup: number, threads: number): (TorchResult | null)[] | null {
  const specs = list.map((c) => ({
    op: `dw${c.k}`,
    kind: 'depthwise',
    shape: c.shape,
    cout: c.shape[3],
    k: c.k,
    stride: c.stride,
    padding: c.k >> 1,
    groups: c.shape[3],
    bias: false,
    xGrad: true,
    fwdFlops: flops(c),
    fwdBwdFlops: 3 * flops(c),
  }));
  const script = fileURLToPath(new URL('./torch_reference.py', import.meta.url));
  const args = [script, '--runs', String(runs), '--warmup', String(warmup), '--threads', String(threads)];
  const res = spawnSync(process.env.PYTHON ?? 'python3', args, {
    input: JSON.stringify(specs),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (res.error || res.status !== 0) {
    process.stderr.write(`bench depthwise: PyTorch unavailable (${res.error?.message ?? res.stderr.trim()})\n`);
    return null;
  }
  const out = JSON.parse(res.stdout) as { results: (TorchResult | { error: string })[] };
  return out.results.map((r) => ('error' in r ? null : r));
}

function main(argv: string[]): void {
  const opt = { runs: 10, warmup: 2, threads: 2, only: '', torch: true, json: false, batch: 128 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-torch') opt.torch = false;
    else if (a === '--json') opt.json = true;
    else if (a === '--only') opt.only = argv[++i] ?? '';
    else if (a === '--runs' || a === '--warmup' || a === '--threads' || a === '--batch') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < (a === '--warmup' ? 0 : 1))
        throw new Error(`bench depthwise: bad value for ${a}`);
      opt[a.slice(2) as 'runs' | 'warmup' | 'threads' | 'batch'] = v;
    } else throw new Error(`bench depthwise: unknown option ${a}`);
  }
  setThreads(opt.threads);
  const load = os.loadavg()[0];
  if (load > 0.5)
    process.stderr.write(`bench depthwise: load average ${load.toFixed(2)}: other processes share the cores\n`);
  const label = (c: Case) => `[${c.shape.join(',')}] k${c.k} s${c.stride}`;
  const list = cases(opt.batch).filter((c) => label(c).includes(opt.only));
  const ours = list.map((c) => measure(c, opt.runs, opt.warmup));
  const torch = opt.torch ? runTorch(list, opt.runs, opt.warmup, opt.threads) : null;
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const rows = list.map((c, i) => {
    const f = flops(c);
    const { fwd, fwdBwd, kernel } = ours[i];
    const t = torch?.[i] ?? null;
    const fwdBwdGflops = (3 * f) / fwdBwd.median / 1e6;
    return {
      case: label(c),
      fwd: r1(f / fwd.median / 1e6),
      fwdBest: r1(f / fwd.best / 1e6),
      fwdBwd: r1(fwdBwdGflops),
      fwdBwdBest: r1((3 * f) / fwdBwd.best / 1e6),
      kernelFwd: r1(f / kernel.fwd / 1e6),
      kernelBwdInput: r1(f / kernel.bwdInput / 1e6),
      kernelBwdWeight: r1(f / kernel.bwdWeight / 1e6),
      kernelBwdFused: r1((2 * f) / kernel.bwd / 1e6),
      torchFwd: t ? r1(t.fwdGflops) : null,
      torchFwdBwd: t ? r1(t.fwdBwdGflops) : null,
      torchLayout: t?.layout ?? null,
      ratio: t ? r1(fwdBwdGflops / t.fwdBwdGflops) : null,
    };
  });
  if (opt.json) {
    for (const r of rows) console.log(JSON.stringify(r));
    return;
  }
  console.log(`depthwise GFLOP/s, ${getThreads()} threads, ${native.simdLevel()} (median / best of ${opt.runs})`);
  console.log(
    'case'.padEnd(28) +
      'fwd'.padStart(14) +
      'fwd+bwd'.padStart(14) +
      ' | kernels: fwd  bwdIn  bwdW  bwd(fused)' +
      ' | torch fwd  fwd+bwd  ratio',
  );
  for (const r of rows) {
    console.log(
      r.case.padEnd(28) +
        `${r.fwd} / ${r.fwdBest}`.padStart(14) +
        `${r.fwdBwd} / ${r.fwdBwdBest}`.padStart(14) +
        ` | ${String(r.kernelFwd).padStart(12)} ${String(r.kernelBwdInput).padStart(6)} ${String(r.kernelBwdWeight).padStart(5)} ${String(r.kernelBwdFused).padStart(11)}` +
        ` | ${String(r.torchFwd ?? '-').padStart(9)} ${String(r.torchFwdBwd ?? '-').padStart(8)} ${String(r.ratio ?? '-').padStart(6)}`,
    );
  }
}

main(process.argv.slice(2));
