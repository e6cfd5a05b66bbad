// Retraining a found architecture from scratch (shared/CREAM.md §4): RMSprop in TF form, warm-up
// then cosine per step, label smoothing, dropout before the classifier, weight decay on conv and
// linear weights, a weight EMA that is what gets evaluated and exported. The EMA weights are
// validated every epoch; test images are seen once, at the end. Resumable after a kill: the
// checkpoint holds weights, EMA, optimiser state, loader position, dropout seed and the epoch's
// running sums, so a resumed run computes exactly what an uninterrupted one does.
import { type Batch, BatchLoader, describeSplit, evalBatches, type Subset, verifySplit } from '../data/index.ts';
import { batchTensors, type EvalResult, evaluate, scoreLogits } from '../eval/accuracy.ts';
import { CheckpointError, checkpointGroup, loadCheckpoint, saveCheckpoint } from '../io/checkpoint.ts';
import type { RunFolder } from '../io/run-folder.ts';
import { ChildNetwork } from '../models/index.ts';
import { InitRandom } from '../nn/index.ts';
import { type LrSchedule, RmspropTF, WeightEma, warmupCosine } from '../optim/index.ts';
import { type Arch, childCost, loadSpace, type SearchSpace, sameNetwork } from '../space/index.ts';
import { backward, crossEntropy, noGrad, releasePool, setThreads, tidy } from '../tensor/index.ts';
import { checkArch } from './arch-input.ts';
import { emaDecayAt, updateEma } from './ema-schedule.ts';
import {
  CHECKPOINT_FILE,
  describeModel,
  FINAL_FILE,
  loadWeights,
  type ModelDescription,
  modelDescription,
} from './model-file.ts';
import { peakLearningRate, type RetrainConfig, RetrainConfigError } from './retrain-config.ts';
import { loadRetrainData, type RetrainData } from './retrain-data.ts';

export interface RetrainStepMetrics {
  kind: 'step';
  step: number;
  epoch: number;
  loss: number;
  trainAccuracy: number;
  lr: number;
  emaDecay: number;
  imagesPerSecond: number;
}

export interface RetrainEpochMetrics {
  kind: 'epoch';
  epoch: number;
  /** Steps done at the end of this epoch. */
  step: number;
  /** Means over the epoch's batches (augmented images, training-mode network). */
  trainLoss: number;
  trainAccuracy: number;
  /** EMA weights on the validation split (null on epochs without validation). */
  valTop1: number | null;
  valTop5: number | null;
  valLoss: number | null;
  lr: number;
  seconds: number;
}

export type RetrainMetrics = RetrainStepMetrics | RetrainEpochMetrics;

export interface RetrainEvents {
  onStep?(m: RetrainStepMetrics, totalSteps: number): void;
  onEpochEnd?(m: RetrainEpochMetrics): void;
}

export interface SplitScores {
  val: EvalResult;
  test: EvalResult;
}

export interface RetrainResult {
  space: string;
  arch: Arch;
  flops: number;
  params: number;
  epochs: number;
  steps: number;
  seconds: number;
  /** The EMA weights (what final.safetensors holds). */
  ema: SplitScores;
  /** The raw trained weights, for comparison (null when eval.raw is off). */
  raw: SplitScores | null;
  bestValidation: { epoch: number; top1: number } | null;
  final: string;
}

/** Running sums of the current epoch's training metrics (saved so a resumed epoch mean is exact). */
interface EpochTotals {
  loss: number;
  hits: number;
  images: number;
  batches: number;
}

interface RetrainState {
  version: 1;
  step: number;
  loader: { epoch: number; batchIndex: number };
  dropoutSeed: number;
  epochTotals: EpochTotals;
  seconds: number;
  model: ModelDescription;
}

export class RetrainError extends Error {
  override name = 'RetrainError';
}

const zeroTotals = (): EpochTotals => ({ loss: 0, hits: 0, images: 0, batches: 0 });

export class Retrainer {
  readonly space: SearchSpace;
  readonly arch: Arch;
  readonly data: RetrainData;
  /** The network being trained. */
  readonly model: ChildNetwork;
  /** A second copy that the EMA weights are loaded into for evaluation and export. */
  readonly emaModel: ChildNetwork;
  readonly ema: WeightEma;
  readonly optimizer: RmspropTF;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly warmupSteps: number;
  readonly schedule: LrSchedule;
  step = 0;
  private loaderStart = { epoch: 0, batchIndex: 0 };
  private totals = zeroTotals();
  private secondsBefore = 0;
  private lastCheckpointStep = -1;
  private lastValidation: { step: number; result: EvalResult } | null = null;

  constructor(
    readonly config: RetrainConfig,
    readonly run: RunFolder,
  ) {
    if (!config.space) throw new RetrainConfigError('no space: give --space, or an --arch file with a "space" field');
    if (!config.arch) throw new RetrainConfigError('no architecture: give --arch');
    if (config.threads) setThreads(config.threads);
    const space = loadSpace(config.space);
    this.arch = checkArch(space, config.arch, 'arch');
    this.space = space;
    // Dropout override: the head reads its rate from the space it is built with.
    const built =
      config.train.dropout === undefined ? space : { ...space, head: { ...space.head, dropout: config.train.dropout } };
    this.data = loadRetrainData(config, space);
    const t = config.train;
    this.stepsPerEpoch = Math.floor(this.data.splits.train.indices.length / t.batchSize);
    if (this.stepsPerEpoch < 1) {
      throw new RetrainConfigError(
        `${this.data.splits.train.indices.length} training images make no batch of ${t.batchSize}`,
      );
    }
    this.totalSteps = this.stepsPerEpoch * t.epochs;
    this.warmupSteps = Math.min(this.totalSteps - 1, Math.round(t.warmupEpochs * this.stepsPerEpoch));
    this.schedule = warmupCosine(peakLearningRate(config), this.totalSteps, this.warmupSteps, {
      min: t.minLr,
      warmupStart: t.warmupLr,
    });
    this.model = new ChildNetwork(built, this.arch, new InitRandom(config.seed + 1));
    this.emaModel = new ChildNetwork(built, this.arch, new InitRandom(config.seed + 1)).eval();
    this.ema = new WeightEma(this.model, config.ema.decay);
    const o = config.optimizer;
    this.optimizer = new RmspropTF(this.model.namedParameters(), {
      alpha: o.alpha,
      eps: o.eps,
      momentum: o.momentum,
      weightDecay: o.weightDecay,
    });
  }

  get description(): ModelDescription {
    return describeModel(this.space, this.arch, this.config.data, this.data.normalize, describeSplit(this.data.splits));
  }

  /** Restores the run folder's checkpoint: weights, EMA, optimiser, loader position, epoch sums. */
  resume(): void {
    const path = this.run.path(CHECKPOINT_FILE);
    const c = loadCheckpoint<RetrainState>(path);
    const recorded = modelDescription(path, c);
    if (!sameNetwork(this.space, recorded.arch, this.arch)) {
      throw new CheckpointError(
        `${path} holds architecture ${JSON.stringify(recorded.arch)}, the run's config has ${JSON.stringify(this.arch)}`,
      );
    }
    const s = c.state;
    if (s.version !== 1) throw new CheckpointError(`${path}: unknown retrain state version ${s.version}`);
    loadWeights(this.model, checkpointGroup(c, 'model'), path, 'model');
    // The EMA tensors are checked by loading them into the evaluation copy, then taken over.
    loadWeights(this.emaModel, checkpointGroup(c, 'ema'), path, 'ema');
    for (const [name, t] of this.emaModel.stateDict()) this.ema.shadow.get(name)!.f32.set(t.f32);
    try {
      this.optimizer.loadStateDict(checkpointGroup(c, 'optimizer'));
    } catch (err) {
      throw new CheckpointError(`${path}: ${(err as Error).message}`);
    }
    verifySplit(recorded.split, this.data.splits);
    this.step = s.step;
    this.loaderStart = s.loader;
    this.model.head.dropoutSeed = s.dropoutSeed;
    this.totals = s.epochTotals;
    this.secondsBefore = s.seconds;
    this.lastCheckpointStep = s.step;
    this.run.filterJsonLines<RetrainMetrics>('metrics.jsonl', (r) =>
      r.kind === 'step' ? r.step < s.step : r.step <= s.step,
    );
  }

  private checkpoint(loader: { epoch: number; batchIndex: number }, seconds: number): void {
    const state: RetrainState = {
      version: 1,
      step: this.step,
      loader,
      dropoutSeed: this.model.head.dropoutSeed,
      epochTotals: this.totals,
      seconds,
      model: this.description,
    };
    saveCheckpoint(
      this.run.path(CHECKPOINT_FILE),
      { model: this.model.stateDict(), ema: this.ema.shadow, optimizer: this.optimizer.stateDict() },
      state,
    );
    this.lastCheckpointStep = this.step;
  }

  private trainStep(batch: Batch, lr: number): { loss: number; hits: number } {
    return tidy(() => {
      this.model.train();
      this.model.zeroGrad();
      const { images, labels } = batchTensors(batch);
      const logits = this.model.forward(images);
      const loss = crossEntropy(logits, labels, { labelSmoothing: this.config.train.labelSmoothing });
      const value = loss.item();
      if (!Number.isFinite(value)) {
        throw new RetrainError(
          `loss became ${value} at step ${this.step}; ` +
            (this.lastCheckpointStep >= 0
              ? `the last good checkpoint is step ${this.lastCheckpointStep} in ${this.run.path(CHECKPOINT_FILE)}`
              : 'no checkpoint was written yet'),
        );
      }
      backward(loss);
      noGrad(() => this.optimizer.step(lr));
      const hits = scoreLogits(logits.f32, batch.labels, this.space.classes).top1;
      return { loss: value, hits };
    });
  }

  private evalSubset(subset: Subset): Iterable<Batch> {
    return evalBatches(subset, { batchSize: this.config.eval.batchSize, normalize: this.data.normalize });
  }

  /** Accuracy of the EMA weights (loaded into the evaluation copy) on the validation or test split. */
  evaluateEma(split: 'val' | 'test'): EvalResult {
    if (split === 'val' && this.lastValidation?.step === this.step) return this.lastValidation.result;
    this.ema.copyTo(this.emaModel);
    this.emaModel.eval();
    const result = evaluate((x) => this.emaModel.forward(x), this.evalSubset(this.data.splits[split]));
    if (split === 'val') this.lastValidation = { step: this.step, result };
    return result;
  }

  evaluateRaw(split: 'val' | 'test'): EvalResult {
    this.model.eval();
    try {
      return evaluate((x) => this.model.forward(x), this.evalSubset(this.data.splits[split]));
    } finally {
      this.model.train();
    }
  }

  /** Trains to the configured number of steps, validating each epoch and checkpointing on the way. */
  async train(events: RetrainEvents = {}): Promise<void> {
    const cfg = this.config;
    const loader = new BatchLoader({
      subset: this.data.splits.train,
      batchSize: cfg.train.batchSize,
      seed: cfg.seed,
      augment: this.data.augment,
      workers: cfg.data.workers,
      start: this.loaderStart,
    });
    const started = performance.now();
    const seconds = () => this.secondsBefore + (performance.now() - started) / 1000;
    try {
      while (this.step < this.totalSteps) {
        const batch = await loader.next();
        const t0 = performance.now();
        const lr = this.schedule(this.step);
        const { loss, hits } = this.trainStep(batch, lr);
        const emaDecay = emaDecayAt(cfg.ema.decay, cfg.ema.warmup, this.step);
        updateEma(this.ema, this.model, emaDecay);
        const metrics: RetrainStepMetrics = {
          kind: 'step',
          step: this.step,
          epoch: batch.epoch,
          loss,
          trainAccuracy: hits / batch.size,
          lr,
          emaDecay,
          imagesPerSecond: batch.size / ((performance.now() - t0) / 1000),
        };
        this.run.appendJsonLine('metrics.jsonl', metrics);
        events.onStep?.(metrics, this.totalSteps);
        this.step++;
        this.totals = {
          loss: this.totals.loss + loss,
          hits: this.totals.hits + hits,
          images: this.totals.images + batch.size,
          batches: this.totals.batches + 1,
        };
        const epochEnd = this.step % this.stepsPerEpoch === 0;
        if (epochEnd) this.endEpoch(batch.epoch, lr, seconds(), events);
        if (epochEnd || this.step % cfg.checkpoint.everySteps === 0 || this.step === this.totalSteps) {
          this.checkpoint(loader.position, seconds());
        }
      }
    } finally {
      this.secondsBefore = seconds();
      await loader.close();
    }
  }

  private endEpoch(epoch: number, lr: number, seconds: number, events: RetrainEvents): void {
    const validate = (epoch + 1) % this.config.eval.everyEpochs === 0 || this.step === this.totalSteps;
    const val = validate ? this.evaluateEma('val') : null;
    const row: RetrainEpochMetrics = {
      kind: 'epoch',
      epoch,
      step: this.step,
      trainLoss: this.totals.loss / Math.max(1, this.totals.batches),
      trainAccuracy: this.totals.hits / Math.max(1, this.totals.images),
      valTop1: val?.top1 ?? null,
      valTop5: val?.top5 ?? null,
      valLoss: val?.loss ?? null,
      lr,
      seconds,
    };
    this.totals = zeroTotals();
    this.run.appendJsonLine('metrics.jsonl', row);
    events.onEpochEnd?.(row);
  }

  /** Final scores (EMA and raw weights, validation and test) and final.safetensors with the EMA weights. */
  finish(): RetrainResult {
    if (this.step < this.totalSteps)
      throw new RetrainError(`training stopped at step ${this.step} of ${this.totalSteps}`);
    const ema = { val: this.evaluateEma('val'), test: this.evaluateEma('test') };
    const raw = this.config.eval.raw ? { val: this.evaluateRaw('val'), test: this.evaluateRaw('test') } : null;
    const epochs = this.run
      .readJsonLines<RetrainMetrics>('metrics.jsonl')
      .filter((r): r is RetrainEpochMetrics => r.kind === 'epoch');
    let bestValidation: RetrainResult['bestValidation'] = null;
    for (const e of epochs) {
      if (e.valTop1 !== null && (bestValidation === null || e.valTop1 > bestValidation.top1)) {
        bestValidation = { epoch: e.epoch, top1: e.valTop1 };
      }
    }
    const cost = childCost(this.space, this.arch);
    const result: RetrainResult = {
      space: this.config.space!,
      arch: this.arch,
      flops: cost.macs,
      params: this.model.parameterCount(),
      epochs: this.config.train.epochs,
      steps: this.step,
      seconds: this.secondsBefore,
      ema,
      raw,
      bestValidation,
      final: FINAL_FILE,
    };
    // emaModel holds the EMA weights (evaluateEma loaded them).
    saveCheckpoint(
      this.run.path(FINAL_FILE),
      { model: this.emaModel.stateDict() },
      {
        model: this.description,
        weights: 'ema',
        steps: this.step,
        epochs: this.config.train.epochs,
        metrics: { val: ema.val, test: ema.test },
      },
    );
    return result;
  }

  dispose(): void {
    this.model.dispose();
    this.emaModel.dispose();
    this.ema.dispose();
    this.optimizer.dispose();
    // The pool keeps freed buffers by size for the next step; the next network (another
    // architecture in a rank or ablation run) has other sizes, so give them back to the GC.
    releasePool();
  }
}
