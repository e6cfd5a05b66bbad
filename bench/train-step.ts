// `cream bench train-step`: median time of one full supernet training step (forward of one path,
// label-smoothed CE, backward, SGD Nesterov update) at batch 128, against PyTorch running the same
// network in the same run (bench/train_step_torch.py, best of NCHW and channels_last).
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
  threads?: number;
  torch: boolean;
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
  const times: number[] = [];
  for (let i = 0; i < o.warmup + o.steps; i++) {
    const t0 = performance.now();
    tidy(() => {
      supernet.zeroGrad();
      const loss = crossEntropy(supernet.forward(x, path), labels, { labelSmoothing: 0.1 });
      backward(loss);
      noGrad(() => opt.step(0.01));
    });
    if (i >= o.warmup) times.push(performance.now() - t0);
  }
  const stepMs = median(times);
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const result: TrainStepResult = {
    bench: 'train-step',
    space: o.space,
    path: o.path,
    batch: o.batch,
    threads,
    imagesPerSecond: (o.batch * 1000) / stepMs,
    medianStepMs: stepMs,
    peakRssBytes,
    torchImagesPerSecond: null,
    torchFormat: null,
    torchOpenmp: null,
    torchPeakRssBytes: null,
    ratio: null,
  };
  if (o.torch) {
    const job = { network: describeNetwork(space, path), batch: o.batch, warmup: o.warmup, steps: o.steps, threads };
    // PyTorch's best of two OpenMP wait settings: its own default (fastest on a quiet machine) and
    // the engine's short spin (fastest under load, where the default's long spin collapses).
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
    if (ok.length > 0) {
      const { openmp, t } = ok[0];
      result.torchImagesPerSecond = t.imagesPerSecond;
      result.torchFormat = t.format;
      result.torchOpenmp = openmp;
      result.torchPeakRssBytes = t.peakRssBytes;
      result.ratio = result.imagesPerSecond / t.imagesPerSecond;
    } else {
      const py = runs[0].py;
      result.note = `PyTorch reference not run: ${(py.stderr || String(py.error)).trim().split('\n').pop()}`;
    }
  }
  supernet.dispose();
  opt.dispose();
  return result;
}
