// `cream bench latency`: batch-1, one-thread inference latency of child networks, side by side in
// one run: our engine's fast path (src/models/inference.ts, kernels tuned per layer), the same
// path untuned, the plain eval-mode forward, the same network exported to ONNX in
// onnxruntime-node (1 intra-op thread), and PyTorch on the same network (bench/latency_torch.py:
// eval, no_grad, best of NCHW / channels_last). Medians of `runs` timed runs after `warmup`
// untimed ones. Ours and ORT are measured in alternating rounds so that a change in machine load
// hits both alike; PyTorch runs in its own process right after.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { onnxSession } from '../src/io/export-check.ts';
import { exportMetadata } from '../src/io/export-metadata.ts';
import { encodeOnnx } from '../src/io/onnx.ts';
import { ChildNetwork, describeNetwork } from '../src/models/index.ts';
import { InferenceNetwork } from '../src/models/inference.ts';
import { foldNetwork } from '../src/models/inference-graph.ts';
import { InitRandom } from '../src/nn/index.ts';
import { type Arch, childCost, loadSpace, parseArch } from '../src/space/index.ts';
import { getThreads, noGrad, setThreads, Tensor, tidy } from '../src/tensor/index.ts';
import { DEFAULT_PATHS_FILE, loadNamedPath } from './train-step.ts';

/** Cream-287M (the paper's Table 1 model) in the imagenet space. */
export const CREAM_287M: Arch = [
  ['k3e4'],
  ['k5e6', 'k5e6'],
  ['k5e6', 'k3e6', 'k5e6'],
  ['k5e6', 'k5e6', 'k5e6', 'k5e6'],
  ['k5e6', 'k5e6', 'k5e6'],
];

export const LATENCY_NETWORKS = ['fmnist/small', 'fmnist/mid', 'fmnist/large', 'imagenet/cream-287m'] as const;

export interface LatencyBenchOptions {
  /** Names from LATENCY_NETWORKS (default: all). */
  networks?: string[];
  runs: number;
  warmup: number;
  torch: boolean;
  ort: boolean;
  log?: (message: string) => void;
}

export interface LatencyRow {
  bench: 'latency';
  network: string;
  space: string;
  resolution: number;
  arch: Arch;
  macs: number;
  params: number;
  batch: 1;
  threads: 1;
  runs: number;
  /** Our fast path (BN folded, no tape, buffers reused, kernels tuned per layer when first run). */
  oursMs: number;
  /** The fast path with its fixed kernel choices (no tuning). */
  oursUntunedMs: number;
  /** Our ordinary eval-mode forward (noGrad + tidy), for reference. */
  oursEagerMs: number;
  ortMs: number | null;
  torchMs: number | null;
  torchFormat: string | null;
  /** PyTorch with conv+BN fused by torch.fx (a stronger baseline than the request asked for). */
  torchFusedMs: number | null;
  /** > 1: ours is faster. */
  ortOverOurs: number | null;
  torchOverOurs: number | null;
  loadAverage: number[];
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function networkFor(name: string): { space: ReturnType<typeof loadSpace>; arch: Arch } {
  if (name === 'imagenet/cream-287m') {
    const space = loadSpace('imagenet');
    return { space, arch: parseArch(space, CREAM_287M, { allowDeeper: true }) };
  }
  const [spaceName, path] = name.split('/');
  if (spaceName !== 'fmnist' || !path)
    throw new Error(`latency: unknown network ${name} (known: ${LATENCY_NETWORKS.join(', ')})`);
  return { space: loadSpace('fmnist'), arch: loadNamedPath(DEFAULT_PATHS_FILE, path, 'fmnist') };
}

interface TorchResult {
  medianMs: number;
  format: string;
  fusedMs: number | null;
  torchVersion: string;
}

function runTorch(network: ReturnType<typeof describeNetwork>, runs: number, warmup: number): TorchResult | string {
  const py = spawnSync('python3', [fileURLToPath(new URL('./latency_torch.py', import.meta.url))], {
    input: JSON.stringify({ network, runs, warmup, threads: 1 }),
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (py.status !== 0) return `PyTorch reference not run: ${(py.stderr || String(py.error)).trim().split('\n').pop()}`;
  return JSON.parse(py.stdout.trim().split('\n').pop()!) as TorchResult;
}

export async function runLatencyBench(o: LatencyBenchOptions): Promise<LatencyRow[]> {
  const log = o.log ?? (() => {});
  const threadsBefore = getThreads();
  setThreads(1);
  const rows: LatencyRow[] = [];
  try {
    for (const name of o.networks ?? LATENCY_NETWORKS) {
      const { space, arch } = networkFor(name);
      const cost = childCost(space, arch);
      const net = new ChildNetwork(space, arch, new InitRandom(1)).eval();
      const graph = foldNetwork(net);
      const fast = new InferenceNetwork(graph, { tune: true });
      const untuned = new InferenceNetwork(graph);
      const [h, w, c] = graph.inputShape;
      const x = new Float32Array(h * w * c);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37);
      const xt = Tensor.from(x, [1, h, w, c]);
      const eager = (): void => noGrad(() => tidy(() => void net.forward(xt)));
      log(`latency ${name}: ${(cost.macs / 1e6).toFixed(1)}M MACs, ${o.runs} runs`);

      let ortRun: (() => Promise<unknown>) | null = null;
      let note: string | undefined;
      if (o.ort) {
        try {
          const ort = await import('onnxruntime-node');
          const session = await onnxSession(encodeOnnx(graph, exportMetadata(space, arch, 'NCHW')), 1);
          const nchw = new Float32Array(x.length);
          for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) nchw[k * h * w + i] = x[i * c + k];
          const feeds = { input: new ort.Tensor('float32', nchw, [1, c, h, w]) };
          ortRun = () => session.run(feeds);
        } catch (e) {
          note = `onnxruntime-node not run: ${(e as Error).message}`;
        }
      }

      // Warm up, then alternate rounds of ours / eager / ORT.
      for (let i = 0; i < o.warmup; i++) {
        fast.run(x, 1);
        untuned.run(x, 1);
        eager();
        if (ortRun) await ortRun();
      }
      const times = { ours: [] as number[], untuned: [] as number[], eager: [] as number[], ort: [] as number[] };
      const rounds = 4;
      for (let r = 0; r < rounds; r++) {
        const n = Math.ceil(o.runs / rounds);
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          fast.run(x, 1);
          times.ours.push(performance.now() - t0);
        }
        for (let i = 0; i < Math.ceil(n / 4); i++) {
          let t0 = performance.now();
          untuned.run(x, 1);
          times.untuned.push(performance.now() - t0);
          t0 = performance.now();
          eager();
          times.eager.push(performance.now() - t0);
        }
        if (ortRun) {
          for (let i = 0; i < n; i++) {
            const t0 = performance.now();
            await ortRun();
            times.ort.push(performance.now() - t0);
          }
        }
      }
      const oursMs = median(times.ours);
      const ortMs = ortRun ? median(times.ort) : null;
      const torch = o.torch ? runTorch(describeNetwork(space, arch), o.runs, o.warmup) : null;
      if (typeof torch === 'string') note = note ? `${note}; ${torch}` : torch;
      const t = torch && typeof torch !== 'string' ? torch : null;
      rows.push({
        bench: 'latency',
        network: name,
        space: space.name,
        resolution: space.resolution,
        arch,
        macs: cost.macs,
        params: cost.params,
        batch: 1,
        threads: 1,
        runs: times.ours.length,
        oursMs,
        oursUntunedMs: median(times.untuned),
        oursEagerMs: median(times.eager),
        ortMs,
        torchMs: t?.medianMs ?? null,
        torchFormat: t?.format ?? null,
        torchFusedMs: t?.fusedMs ?? null,
        ortOverOurs: ortMs === null ? null : ortMs / oursMs,
        torchOverOurs: t ? t.medianMs / oursMs : null,
        loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
        ...(note ? { note } : {}),
      });
      xt.dispose();
      net.dispose();
    }
  } finally {
    setThreads(threadsBefore);
  }
  return rows;
}
