// Algorithm 1 of the paper: train the supernet one sampled path at a time, keep the prioritized
// path board, distil each path from the board path the meta matching network picks, update the
// meta network every tau steps, and finally return the best board path. Resumable after a kill.

import { selectBySearch } from '../baselines/search-selection.ts';
import { type Batch, BatchLoader, BatchMaker, describeSplit, evalBatches, verifySplit } from '../data/index.ts';
import { batchTensors } from '../eval/accuracy.ts';
import { checkpointGroup, loadCheckpoint, saveCheckpoint } from '../io/checkpoint.ts';
import type { RunFolder } from '../io/run-folder.ts';
import { Supernet } from '../models/index.ts';
import { InitRandom } from '../nn/index.ts';
import { linearDecay, SGD } from '../optim/index.ts';
import {
  type Arch,
  ArchSampler,
  type CostTable,
  childCost,
  costTable,
  formatArchCompact,
  loadSpace,
  Mulberry32,
  type SearchSpace,
} from '../space/index.ts';
import { backward, crossEntropy, keep, noGrad, releasePool, setThreads, Tensor, tidy } from '../tensor/index.ts';
import { type BoardEntry, PrioritizedBoard } from './board.ts';
import { distillationLoss } from './distillation.ts';
import { createMetaMatchingNetwork, type MetaMatchingNetwork } from './meta-matching.ts';
import { lookaheadRhoGradient } from './meta-update.ts';
import { pathAccuracy, recalibratedPathAccuracy } from './path-evaluator.ts';
import type { SearchConfig } from './search-config.ts';
import { loadSearchData, type SearchData } from './search-data.ts';
import { chooseTeacher, largestPath, teacherProbabilities } from './teacher.ts';

const EVAL_BATCH = 256;
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

export interface StepMetrics {
  step: number;
  epoch: number;
  path: string;
  flops: number;
  loss: number;
  ce: number;
  kd: number | null;
  rho: number | null;
  lr: number;
  trainAccuracy: number;
  /** Validation-subset accuracy when the path was scored for the board. */
  boardAccuracy: number | null;
  boardOutcome: string | null;
  boardSize: number;
  bestAccuracy: number | null;
  imagesPerSecond: number;
  /** dR/drho of a meta update at this step. */
  metaGradient?: number;
}

export interface SearchEvents {
  onStep?(m: StepMetrics, totalSteps: number): void;
  onEpochEnd?(epoch: number, board: BoardEntry[]): void;
  onSelect?(done: number, total: number): void;
  /** Baseline searches (evolution, random): paths scored so far of at most `total`. */
  onCandidates?(done: number, total: number, best: number): void;
  onLog?(message: string): void;
}

export interface Candidate {
  arch: Arch;
  flops: number;
  params: number;
  /** The accuracy the path became a finalist with: its board score, or its baseline-search score. */
  boardAccuracy: number;
  validationAccuracy: number;
  validationTop5: number;
}

export interface SearchResult {
  best: Candidate;
  candidates: Candidate[];
  steps: number;
  seconds: number;
}

/** What a checkpoint stores besides tensors. */
interface SearchState {
  step: number;
  loader: { epoch: number; batchIndex: number };
  samplerRng: ReturnType<Mulberry32['getState']>;
  teacherRng: ReturnType<Mulberry32['getState']>;
  board: unknown;
  dropoutSeed: number;
  metaUpdates: number;
  split: unknown;
  seconds: number;
}

export class SearchError extends Error {
  override name = 'SearchError';
}

export class CreamSearch {
  readonly space: SearchSpace;
  readonly table: CostTable;
  readonly sampler: ArchSampler;
  readonly supernet: Supernet;
  readonly optimizer: SGD;
  readonly meta: MetaMatchingNetwork;
  readonly metaOptimizer: SGD;
  board: PrioritizedBoard;
  readonly data: SearchData;
  readonly largest: Arch;
  samplerRng: Mulberry32;
  teacherRng: Mulberry32;
  step = 0;
  metaUpdates = 0;
  private loaderStart = { epoch: 0, batchIndex: 0 };
  private secondsBefore = 0;
  private lastCheckpointStep = -1;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;

  constructor(
    readonly config: SearchConfig,
    readonly run: RunFolder,
  ) {
    if (config.threads) setThreads(config.threads);
    this.space = loadSpace(config.space);
    this.table = costTable(this.space);
    const range = this.table.macsRange();
    const minMacs = config.budget.minFlops ?? range.min;
    const maxMacs = config.budget.maxFlops ?? range.max;
    // The sampler states the space's range when the budget is infeasible.
    this.sampler = new ArchSampler(this.space, { minMacs, maxMacs });
    this.data = loadSearchData(config, this.space, EVAL_BATCH);
    const rng = new InitRandom(config.seed + 1);
    this.supernet = new Supernet(this.space, rng);
    const t = config.train;
    this.optimizer = new SGD(this.supernet.namedParameters(), {
      momentum: t.momentum,
      nesterov: t.nesterov,
      weightDecay: t.weightDecay,
    });
    this.meta = createMetaMatchingNetwork(
      { sliceSize: config.distill.sliceSize, classes: this.space.classes, hidden: config.distill.metaHidden },
      config.seed + 2,
    );
    this.metaOptimizer = new SGD(this.meta.namedParameters(), { momentum: 0.9 });
    this.board = new PrioritizedBoard(config.board.size);
    this.largest = largestPath(this.table, this.space);
    this.samplerRng = new Mulberry32(config.seed + 3);
    this.teacherRng = new Mulberry32(config.seed + 4);
    this.stepsPerEpoch = Math.floor(this.data.splits.train.indices.length / t.batchSize);
    if (this.stepsPerEpoch < 1) {
      throw new SearchError(`${this.data.splits.train.indices.length} training images make no batch of ${t.batchSize}`);
    }
    this.totalSteps = this.stepsPerEpoch * t.epochs;
  }

  /** Restores the last checkpoint of the run folder (weights, optimisers, board, RNG and data position). */
  resume(): void {
    const c = loadCheckpoint<SearchState>(this.run.path(CHECKPOINT_FILE));
    this.supernet.loadStateDict(checkpointGroup(c, 'model'));
    this.optimizer.loadStateDict(checkpointGroup(c, 'optimizer'));
    this.meta.loadStateDict(checkpointGroup(c, 'meta'));
    this.metaOptimizer.loadStateDict(checkpointGroup(c, 'meta_optimizer'));
    const s = c.state;
    verifySplit(s.split as Parameters<typeof verifySplit>[0], this.data.splits);
    this.step = s.step;
    this.loaderStart = s.loader;
    this.samplerRng = Mulberry32.fromState(s.samplerRng);
    this.teacherRng = Mulberry32.fromState(s.teacherRng);
    this.board = PrioritizedBoard.fromJSON(s.board);
    this.supernet.head.dropoutSeed = s.dropoutSeed;
    this.metaUpdates = s.metaUpdates;
    this.secondsBefore = s.seconds;
    this.lastCheckpointStep = s.step;
    this.run.filterJsonLines<{ step: number }>('metrics.jsonl', (r) => r.step < s.step);
  }

  private lastGoodCheckpoint(): string {
    return this.lastCheckpointStep >= 0
      ? `the last good checkpoint is step ${this.lastCheckpointStep} in ${this.run.path(CHECKPOINT_FILE)}`
      : 'no checkpoint was written yet';
  }

  private checkpoint(loader: { epoch: number; batchIndex: number }, seconds: number): void {
    // A finite loss can still be followed by an update that overflows: never save such weights.
    for (const [name, p] of this.supernet.namedParameters()) {
      const d = p.f32;
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) {
          throw new SearchError(`weight ${name} became ${d[i]} by step ${this.step}; ${this.lastGoodCheckpoint()}`);
        }
      }
    }
    const state: SearchState = {
      step: this.step,
      loader,
      samplerRng: this.samplerRng.getState(),
      teacherRng: this.teacherRng.getState(),
      board: this.board.toJSON(),
      dropoutSeed: this.supernet.head.dropoutSeed,
      metaUpdates: this.metaUpdates,
      split: describeSplit(this.data.splits),
      seconds,
    };
    saveCheckpoint(
      this.run.path(CHECKPOINT_FILE),
      {
        model: this.supernet.stateDict(),
        optimizer: this.optimizer.stateDict(),
        meta: this.meta.stateDict(),
        meta_optimizer: this.metaOptimizer.stateDict(),
      },
      state,
    );
    this.lastCheckpointStep = this.step;
  }

  /**
   * Whether training keeps the board: Cream's teachers come from it and its pick needs it. SPOS
   * training for a baseline search needs neither, and skips the cost of scoring every path.
   */
  get keepsBoard(): boolean {
    const c = this.config;
    return c.select.method === 'board' || ['meta', 'random', 'top1'].includes(c.distill.teacher);
  }

  private get warmupSteps(): number {
    return this.config.train.warmupEpochs * this.stepsPerEpoch;
  }

  /** Board accuracy of a freshly trained path, or null when it could not enter the board anyway. */
  private boardScore(path: Arch, flops: number, trainAccuracy: number): number | null {
    if (this.config.board.accuracy === 'train-batch') return trainAccuracy;
    const members = this.board.entries();
    const couldEnter = !this.board.isFull || members.some((m) => flops <= m.flops);
    if (!couldEnter) return null;
    return pathAccuracy(this.supernet, path, this.data.boardBatches).top1;
  }

  private validationBatch(): Batch {
    const val = this.data.splits.val;
    const b = this.config.train.batchSize;
    const batches = Math.max(1, Math.floor(val.indices.length / b));
    const k = this.metaUpdates % batches;
    const maker = new BatchMaker(val.dataset, { normalize: this.data.normalize });
    return maker.make(val.indices.slice(k * b, (k + 1) * b), 0);
  }

  /** One training step of `path` on `batch`; returns its metrics (without board fields). */
  private trainStep(
    path: Arch,
    batch: Batch,
    lr: number,
  ): Omit<
    StepMetrics,
    | 'boardAccuracy'
    | 'boardOutcome'
    | 'boardSize'
    | 'bestAccuracy'
    | 'imagesPerSecond'
    | 'path'
    | 'flops'
    | 'epoch'
    | 'step'
  > {
    const cfg = this.config;
    const warm = this.step < this.warmupSteps;
    return tidy(() => {
      this.supernet.train();
      this.supernet.zeroGrad();
      const { images, labels } = batchTensors(batch);
      const logits = this.supernet.forward(images, path);
      const classes = this.space.classes;
      const slice = Math.min(cfg.distill.sliceSize, batch.size);
      const teacher = warm
        ? null
        : chooseTeacher({
            mode: cfg.distill.teacher,
            board: this.board.entries(),
            supernet: this.supernet,
            meta: this.meta,
            slice: Tensor.from(images.f32.subarray(0, slice * batch.height * batch.width * batch.channels), [
              slice,
              batch.height,
              batch.width,
              batch.channels,
            ]),
            studentSliceLogits: logits.f32.slice(0, slice * classes),
            largest: this.largest,
            fixedRho: cfg.distill.fixedRho,
            rng: this.teacherRng,
          });
      const teacherProbs = teacher ? teacherProbabilities(this.supernet, teacher.arch, images) : null;
      const rho = teacher?.rho ?? 0;
      const loss = distillationLoss(logits, labels, teacherProbs, rho, {
        labelSmoothing: cfg.train.labelSmoothing,
        weighting: cfg.distill.weighting,
      });
      const total = loss.total.item();
      if (!Number.isFinite(total)) {
        throw new SearchError(
          `loss became ${total} at step ${this.step} (path ${formatArchCompact(path)}); ${this.lastGoodCheckpoint()}`,
        );
      }
      let metaGradient: number | undefined;
      const metaStep =
        teacher?.scores !== undefined &&
        loss.kd !== null &&
        (this.step - this.warmupSteps) % cfg.distill.metaUpdateEvery === 0;
      if (metaStep && loss.kd && teacher?.scores) {
        metaGradient = this.metaUpdate(path, loss.kd, loss.total, lr, teacher.scores, teacher.boardIndex ?? 0);
      } else {
        backward(loss.total);
      }
      noGrad(() => this.optimizer.step(lr));
      const predicted = logits.f32;
      let hits = 0;
      for (let i = 0; i < batch.size; i++) {
        let arg = 0;
        for (let c = 1; c < classes; c++) if (predicted[i * classes + c] > predicted[i * classes + arg]) arg = c;
        if (arg === batch.labels[i]) hits++;
      }
      return {
        loss: total,
        ce: loss.ce.item(),
        kd: loss.kd ? loss.kd.item() : null,
        rho: teacher ? rho : null,
        lr,
        trainAccuracy: hits / batch.size,
        metaGradient,
      };
    });
  }

  /**
   * Eq. 6: g_KD and g_total from the same forward, the lookahead validation gradient, then one
   * step of the meta network along dR/dtheta. Leaves g_total in the path's `.grad`.
   */
  private metaUpdate(path: Arch, kd: Tensor, total: Tensor, lr: number, scores: Tensor, index: number): number {
    const params = [...this.supernet.pathParameters(path)];
    backward(kd, undefined, { retainGraph: true });
    const kdGrads = new Map<string, Tensor>();
    for (const [name, p] of params) {
      if (p.grad) kdGrads.set(name, keep(p.grad));
      p.grad = null;
    }
    backward(total);
    const buffers = this.supernet.pathModules(path).flatMap((m) => [...m.namedBuffers()].map(([, b]) => b));
    const val = this.validationBatch();
    let dRdRho: number;
    try {
      dRdRho = lookaheadRhoGradient({
        params,
        kdGrads,
        lr,
        buffers,
        validationLoss: () => {
          const { images, labels } = batchTensors(val);
          return crossEntropy(this.supernet.forward(images, path), labels);
        },
      });
    } finally {
      for (const g of kdGrads.values()) g.dispose();
    }
    // Back-propagate dR/drho of the chosen teacher through the meta network.
    this.meta.zeroGrad();
    const seed = new Float32Array(scores.size);
    seed[index] = dRdRho;
    tidy(() => backward(scores, Tensor.from(seed, scores.shape)));
    noGrad(() => this.metaOptimizer.step(this.config.distill.metaLr));
    this.metaUpdates++;
    return dRdRho;
  }

  /** Trains until the configured number of steps, checkpointing on the way. */
  async train(events: SearchEvents = {}): Promise<void> {
    const cfg = this.config;
    const schedule = linearDecay(cfg.train.lr, this.totalSteps);
    const loader = new BatchLoader({
      subset: this.data.splits.train,
      batchSize: cfg.train.batchSize,
      seed: cfg.seed,
      augment: this.data.augment,
      workers: cfg.data.workers,
      start: this.loaderStart,
    });
    // The split (seed, counts, hashes of the index lists) lives in the run folder for the record;
    // the checkpoint holds the same description, which a resumed run verifies.
    if (!this.run.exists('split.json')) this.run.writeJson('split.json', describeSplit(this.data.splits));
    const started = performance.now();
    const seconds = () => this.secondsBefore + (performance.now() - started) / 1000;
    try {
      while (this.step < this.totalSteps) {
        const batch = await loader.next();
        const t0 = performance.now();
        const path = this.sampler.sample(this.samplerRng);
        const flops = this.table.pathMacs(path);
        const lr = schedule(this.step);
        const m = this.trainStep(path, batch, lr);
        let boardAccuracy: number | null = null;
        let boardOutcome: string | null = null;
        if (this.step >= this.warmupSteps && this.keepsBoard) {
          boardAccuracy = this.boardScore(path, flops, m.trainAccuracy);
          if (boardAccuracy !== null) boardOutcome = this.board.offer(path, boardAccuracy, flops, this.step).outcome;
        }
        const elapsed = (performance.now() - t0) / 1000;
        const metrics: StepMetrics = {
          step: this.step,
          epoch: batch.epoch,
          path: formatArchCompact(path),
          flops,
          ...m,
          boardAccuracy,
          boardOutcome,
          boardSize: this.board.size,
          bestAccuracy: this.board.best()?.accuracy ?? null,
          imagesPerSecond: batch.size / elapsed,
        };
        this.run.appendJsonLine('metrics.jsonl', metrics);
        events.onStep?.(metrics, this.totalSteps);
        this.step++;
        const epochEnd = this.step % this.stepsPerEpoch === 0;
        if (epochEnd && this.step > this.warmupSteps && this.keepsBoard) {
          // Member scores go stale as the weights train: re-score on the validation subset.
          this.board.rescore((e) => pathAccuracy(this.supernet, e.arch, this.data.boardBatches).top1, this.step);
        }
        if (epochEnd) events.onEpochEnd?.(batch.epoch, this.board.entries());
        if (epochEnd || this.step % cfg.checkpoint.everySteps === 0 || this.step === this.totalSteps) {
          this.checkpoint(loader.position, seconds());
        }
      }
    } finally {
      this.secondsBefore = seconds();
      await loader.close();
    }
  }

  /**
   * The batches a final choice uses: `calibration` re-estimates a path's BN statistics (the first
   * `select.recalibrationBatches` training batches, unaugmented), `evaluation` scores it (the
   * validation split, or its first `select.evalImages` images).
   */
  selectionBatches(): { calibration: Batch[]; evaluation: Batch[] } {
    const cfg = this.config;
    const val = this.data.splits.val;
    const evalIndices = cfg.select.evalImages ? val.indices.slice(0, cfg.select.evalImages) : val.indices;
    const evaluation = [
      ...evalBatches(
        { dataset: val.dataset, indices: evalIndices },
        { batchSize: EVAL_BATCH, normalize: this.data.normalize },
      ),
    ];
    const train = this.data.splits.train;
    const calibIndices = train.indices.slice(0, cfg.select.recalibrationBatches * cfg.train.batchSize);
    const calibration = [
      ...evalBatches(
        { dataset: train.dataset, indices: calibIndices },
        { batchSize: cfg.train.batchSize, normalize: this.data.normalize },
      ),
    ];
    return { calibration, evaluation };
  }

  /**
   * Final selection. 'board' (Cream): every board path is a finalist. 'evolution' / 'random' (the
   * baselines): a search over the trained supernet proposes the finalists (src/baselines/).
   */
  select(events: SearchEvents = {}): SearchResult {
    if (this.config.select.method !== 'board') return selectBySearch(this, events);
    const entries = this.board.entries();
    if (entries.length === 0) throw new SearchError('the board is empty: train for more steps after the warm-up');
    return this.pickBest(entries, events);
  }

  /**
   * BN re-calibration and validation accuracy of every finalist; best wins (ties: fewer FLOPs).
   * `batches`: `selectionBatches()`, when the caller has them already.
   */
  pickBest(
    finalists: readonly { arch: Arch; flops: number; accuracy: number }[],
    events: SearchEvents = {},
    batches: { calibration: Batch[]; evaluation: Batch[] } = this.selectionBatches(),
  ): SearchResult {
    const { calibration, evaluation } = batches;
    const candidates: Candidate[] = [];
    finalists.forEach((e, i) => {
      const r = recalibratedPathAccuracy(this.supernet, e.arch, calibration, evaluation);
      candidates.push({
        arch: e.arch,
        flops: e.flops,
        params: childCost(this.space, e.arch).params,
        boardAccuracy: e.accuracy,
        validationAccuracy: r.top1,
        validationTop5: r.top5,
      });
      events.onSelect?.(i + 1, finalists.length);
    });
    candidates.sort((a, b) => b.validationAccuracy - a.validationAccuracy || a.flops - b.flops);
    return { best: candidates[0], candidates, steps: this.step, seconds: this.secondsBefore };
  }

  dispose(): void {
    this.supernet.dispose();
    this.optimizer.dispose();
    this.meta.dispose();
    this.metaOptimizer.dispose();
    // The pool keeps freed buffers by size for the next step; the next network (another
    // architecture in a rank or ablation run) has other sizes, so give them back to the GC.
    releasePool();
  }
}
