// `cream bench train-step`: median time of one full supernet training step (forward of one path,
// label-smoothed CE, backward, SGD Nesterov update) at batch 128, against PyTorch running the same
// network in the same run (bench/train_step_torch.py).
// PyTorch's setting is chosen once, first: the fastest of NCHW / channels_last under its default
// OpenMP wait and under the engine's short spin (four windows). Then ours and that PyTorch alternate
// in rounds of windows of the same number of steps (ours, PyTorch, ours, ...): on a shared machine
// the speed of both drifts by 20-50% within a minute, and a ratio of figures taken side by side in
// time drifts far less. Both sides get one window per round (a best of several windows, over time,
// would favour whichever side gets more of them). The reported round is the one with the median
// ratio; every round is listed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeNetwork, Supernet } from '../src/models/index.ts';
import { InitRandom } from '../src/nn/index.ts';
import { SGD } from '../src/optim/index.ts';
import { type Arch, loadSpace, parseArch } from '../src/space/index.ts';
import { backward, crossEntropy, getThreads, noGrad, setThreads, Tensor, tidy } from '../src/tensor/index.ts';
import { openmpWaitEnv } from '../src/tensor/native.ts';
import { LineChild } from './line-child.ts';

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
  /** Which OpenMP wait setting PyTorch ran under (the faster): 'default' or 'short-spin'. */
  torchOpenmp: string | null;
  torchPeakRssBytes: number | null;
  ratio: number | null;
  /** The four PyTorch windows that chose its setting (images/s), before the rounds. */
  torchSelection: { openmp: string; format: string; imagesPerSecond: number }[];
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

type TorchFormat = 'nchw' | 'channels_last';
type TorchWindow = { medianStepMs: number; peakRssBytes: number } | { error: string };

/** One bench/train_step_torch.py process (one OpenMP setting) with the job loaded. */
class TorchTrainer {
  peakRssBytes = 0;
  private constructor(private readonly child: LineChild) {}

  static async start(job: unknown, env: NodeJS.ProcessEnv): Promise<TorchTrainer | { error: string }> {
    const script = fileURLToPath(new URL('./train_step_torch.py', import.meta.url));
    const child = await LineChild.start(process.env.PYTHON ?? 'python3', [script], env, job);
    return child instanceof LineChild ? new TorchTrainer(child) : child;
  }

  /** Median step of `steps` steps after `warmup`, or why PyTorch failed. */
  async window(format: TorchFormat, warmup: number, steps: number): Promise<number | string> {
    const r = (await this.child.request({ format, warmup, steps })) as TorchWindow;
    if ('error' in r) return r.error;
    this.peakRssBytes = Math.max(this.peakRssBytes, r.peakRssBytes);
    return r.medianStepMs;
  }

  close(): void {
    this.child.close();
  }
}

interface TorchChoice {
  trainer: TorchTrainer;
  openmp: string;
  format: TorchFormat;
  selection: TrainStepResult['torchSelection'];
}

/**
 * Starts PyTorch under its default OpenMP wait (fastest on a quiet machine) and under the engine's
 * short spin (fastest under load, where the default's long spin collapses), times one window of
 * each memory format in each, and keeps the fastest process and format. A string says why PyTorch
 * could not run.
 */
async function chooseTorch(job: unknown, batch: number, warmup: number, steps: number): Promise<TorchChoice | string> {
  const settings = [
    { openmp: 'default', env: process.env },
    { openmp: 'short-spin', env: openmpWaitEnv() },
  ];
  const selection: TrainStepResult['torchSelection'] = [];
  let best: { trainer: TorchTrainer; openmp: string; format: TorchFormat; ms: number } | null = null;
  let failure = '';
  const started: TorchTrainer[] = [];
  for (const { openmp, env } of settings) {
    const trainer = await TorchTrainer.start(job, env);
    if (!(trainer instanceof TorchTrainer)) {
      failure = trainer.error;
      continue;
    }
    started.push(trainer);
    for (const format of ['nchw', 'channels_last'] as const) {
      const ms = await trainer.window(format, warmup, steps);
      if (typeof ms === 'string') {
        failure = ms;
        continue;
      }
      selection.push({ openmp, format, imagesPerSecond: (batch * 1000) / ms });
      if (best === null || ms < best.ms) best = { trainer, openmp, format, ms };
    }
  }
  for (const t of started) if (t !== best?.trainer) t.close();
  if (best === null) return `PyTorch reference not run: ${failure}`;
  return { trainer: best.trainer, openmp: best.openmp, format: best.format, selection };
}

export async function runTrainStepBench(o: TrainStepOptions): Promise<TrainStepResult> {
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
  const job = { network: describeNetwork(space, path), batch: o.batch, threads };
  let chosen: TorchChoice | null = null;
  let note: string | undefined;
  if (o.torch) {
    const choice = await chooseTorch(job, o.batch, o.warmup, o.steps);
    if (typeof choice === 'string') note = choice;
    else chosen = choice;
  }
  let torch = chosen; // null from a failure on
  const rounds: (TrainStepRound & { stepMs: number })[] = [];
  try {
    for (let r = 0; r < o.rounds; r++) {
      // Warm-up (buffer pool, primitive caches; PyTorch's network is built) is paid once; later
      // rounds take one untimed step on each side, after the other side ran.
      const warmup = r === 0 ? o.warmup : 1;
      const stepMs = measureOurs(warmup, o.steps);
      const imagesPerSecond = (o.batch * 1000) / stepMs;
      let torchImagesPerSecond: number | null = null;
      if (torch) {
        const ms = await torch.trainer.window(torch.format, warmup, o.steps);
        if (typeof ms === 'string') {
          note = `PyTorch failed in round ${r + 1}: ${ms}`;
          torch.trainer.close();
          torch = null;
        } else {
          torchImagesPerSecond = (o.batch * 1000) / ms;
        }
      }
      rounds.push({
        stepMs,
        imagesPerSecond,
        torchImagesPerSecond,
        ratio: torchImagesPerSecond === null ? null : imagesPerSecond / torchImagesPerSecond,
      });
    }
  } finally {
    torch?.trainer.close();
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
    torchFormat: chosen?.format ?? null,
    torchOpenmp: chosen?.openmp ?? null,
    torchPeakRssBytes: chosen ? chosen.trainer.peakRssBytes : null,
    ratio: mid.ratio,
    torchSelection: chosen?.selection ?? [],
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
