// `cream bench train-step`: median time of one full supernet training step (forward of one path,
// label-smoothed CE, backward, SGD Nesterov update) at batch 128, against PyTorch running the same
// network in the same run (bench/train_step_torch.py, best of NCHW and channels_last).
// The two alternate in rounds (ours, PyTorch, ours, ...): on a shared machine the speed of both
// drifts by 20-30% over a minute, and a ratio of figures taken side by side in time drifts far less.
// The reported round is the one with the median ratio; every round is listed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeNetwork, Supernet } from '../src/models/index.ts';
import { InitRandom } from '../src/nn/index.ts';
import { SGD } from '../src/optim/index.ts';
import { type Arch, loadSpace, parseArch } from '../src/space/index.ts';
import { backward, crossEntropy, getThreads, noGrad, setThreads, Tensor, tidy } from '../src/tensor/index.ts';
import { openmpWaitEnv } from '../src/tensor/native.ts';

export const DEFAULT_PATHS_FILE = fileURLToPath(new URL('../presets/paths/fmnist-paths.json', import.meta.url));

export interface TrainStepOptions {
  space: string;
  pathsFile: string;
  path: string;
  batch: number;
  warmup: number;
  steps: number;
  /** Alternating rounds of ours then PyTorch (>= 1). */
  rounds: number;
  threads?: number;
  torch: boolean;
}

export interface TrainStepRound {
  imagesPerSecond: number;
  torchImagesPerSecond: number | null;
  ratio: number | null;
}

export interface TrainStepResult {
  bench: 'train-step';
  space: string;
  path: string;
  batch: number;
  threads: number;
  imagesPerSecond: number;
  medianStepMs: number;
  peakRssBytes: number;
  torchImagesPerSecond: number | null;
  torchFormat: string | null;
  /** Which OpenMP wait setting gave PyTorch's (faster) figure: 'default' or 'short-spin'. */
  torchOpenmp: string | null;
  torchPeakRssBytes: number | null;
  ratio: number | null;
  rounds: TrainStepRound[];
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function loadNamedPath(file: string, name: string, spaceName: string): Arch {
  const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (!(name in all) || name === 'comment') {
    const names = Object.keys(all).filter((k) => k !== 'comment');
    throw new Error(`${file}: no path named ${name} (paths: ${names.join(', ')})`);
  }
  return parseArch(loadSpace(spaceName), all[name]);
}

interface TorchRun {
  imagesPerSecond: number;
  format: string;
  openmp: string;
  peakRssBytes: number;
}

/**
 * One PyTorch measurement: the best of two OpenMP wait settings, its own default (fastest on a
 * quiet machine) and the engine's short spin (fastest under load, where the default's long spin
 * collapses). A string says why PyTorch could not run.
 */
function measureTorch(job: unknown): TorchRun | string {
  const runs = [
    { openmp: 'default', env: process.env },
    { openmp: 'short-spin', env: openmpWaitEnv() },
  ].map(({ openmp, env }) => {
    const py = spawnSync('python3', [fileURLToPath(new URL('./train_step_torch.py', import.meta.url))], {
      input: JSON.stringify(job),
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      env,
    });
    return { openmp, py };
  });
  const ok = runs
    .filter((r) => r.py.status === 0)
    .map((r) => ({ openmp: r.openmp, t: JSON.parse(r.py.stdout.trim().split('\n').pop()!) }))
    .sort((a, b) => b.t.imagesPerSecond - a.t.imagesPerSecond);
  if (ok.length === 0) {
    const py = runs[0].py;
    return `PyTorch reference not run: ${(py.stderr || String(py.error)).trim().split('\n').pop()}`;
  }
  const { openmp, t } = ok[0];
  return { imagesPerSecond: t.imagesPerSecond, format: t.format, openmp, peakRssBytes: t.peakRssBytes };
}

export function runTrainStepBench(o: TrainStepOptions): TrainStepResult {
  if (o.threads) setThreads(o.threads);
  const threads = getThreads();
  const space = loadSpace(o.space);
  const path = loadNamedPath(o.pathsFile, o.path, o.space);
  const supernet = new Supernet(space, new InitRandom(1));
  const opt = new SGD(supernet.namedParameters(), { momentum: 0.9, nesterov: true, weightDecay: 4e-5 });
  const x = Tensor.empty([o.batch, space.resolution, space.resolution, space.inputChannels]);
  const rng = new InitRandom(2);
  for (let i = 0; i < x.size; i++) x.f32[i] = rng.normal();
  const labels = Tensor.from(
    Array.from({ length: o.batch }, (_, i) => i % space.classes),
    [o.batch],
    'int32',
  );
  /** Median milliseconds of `steps` timed steps after `warmup` untimed ones. */
  const measureOurs = (warmup: number, steps: number): number => {
    const times: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      tidy(() => {
        supernet.zeroGrad();
        const loss = crossEntropy(supernet.forward(x, path), labels, { labelSmoothing: 0.1 });
        backward(loss);
        noGrad(() => opt.step(0.01));
      });
      if (i >= warmup) times.push(performance.now() - t0);
    }
    return median(times);
  };
  const job = { network: describeNetwork(space, path), batch: o.batch, warmup: o.warmup, steps: o.steps, threads };
  const rounds: (TrainStepRound & { stepMs: number; torch: TorchRun | null })[] = [];
  let note: string | undefined;
  for (let r = 0; r < o.rounds; r++) {
    // Our warm-up (buffer pool, primitive caches) is paid once; PyTorch's process warms up each time.
    const stepMs = measureOurs(r === 0 ? o.warmup : 0, o.steps);
    const imagesPerSecond = (o.batch * 1000) / stepMs;
    let torch: TorchRun | null = null;
    if (o.torch && note === undefined) {
      const t = measureTorch(job);
      if (typeof t === 'string') note = t;
      else torch = t;
    }
    rounds.push({
      stepMs,
      torch,
      imagesPerSecond,
      torchImagesPerSecond: torch?.imagesPerSecond ?? null,
      ratio: torch ? imagesPerSecond / torch.imagesPerSecond : null,
    });
  }
  // The round with the median ratio (upper median for an even count); without PyTorch, our median speed.
  const byRatio = [...rounds].sort((a, b) => (a.ratio ?? a.imagesPerSecond) - (b.ratio ?? b.imagesPerSecond));
  const mid = byRatio[byRatio.length >> 1];
  const result: TrainStepResult = {
    bench: 'train-step',
    space: o.space,
    path: o.path,
    batch: o.batch,
    threads,
    imagesPerSecond: mid.imagesPerSecond,
    medianStepMs: mid.stepMs,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    torchImagesPerSecond: mid.torchImagesPerSecond,
    torchFormat: mid.torch?.format ?? null,
    torchOpenmp: mid.torch?.openmp ?? null,
    torchPeakRssBytes: rounds.some((r) => r.torch) ? Math.max(...rounds.map((r) => r.torch?.peakRssBytes ?? 0)) : null,
    ratio: mid.ratio,
    rounds: rounds.map(({ imagesPerSecond, torchImagesPerSecond, ratio }) => ({
      imagesPerSecond,
      torchImagesPerSecond,
      ratio,
    })),
    ...(note === undefined ? {} : { note }),
  };
  supernet.dispose();
  opt.dispose();
  return result;
}
