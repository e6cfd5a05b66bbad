// Training batches, epoch after epoch, prepared ahead of time on worker threads.
//
// The loader is a cursor (epoch, batchIndex) over an endless sequence of batches; each batch is a
// pure function of (seed, epoch, batchIndex) (see batch.ts), so prefetching, the number of
// workers and their timing cannot change what the trainer sees, and a resumed run restarts
// exactly where it stopped by passing the saved position back in. Nothing else needs saving:
// the loader has no hidden RNG state.

import type { AugmentOptions } from './augment.ts';
import { type Batch, BatchMaker, batchesPerEpoch, batchSeed, epochOrder } from './batch.ts';
import type { Subset } from './split.ts';
import { BatchWorkerPool } from './worker-pool.ts';

/** Where the loader stands: the next call to next() returns this batch. JSON-safe. */
export interface LoaderPosition {
  epoch: number;
  batchIndex: number;
}

export interface LoadedBatch extends Batch {
  epoch: number;
  batchIndex: number;
}

export interface BatchLoaderOptions {
  /** The images to iterate (e.g. splits.train). */
  subset: Pick<Subset, 'dataset' | 'indices'>;
  batchSize: number;
  seed: number;
  /** Normalisation and training augmentation. */
  augment: AugmentOptions;
  /** Worker threads (default 1); 0 builds batches on the calling thread. */
  workers?: number;
  /** Batches requested ahead of the one being consumed (default 2 per worker). */
  prefetch?: number;
  /** Drop the last incomplete batch of each epoch (default true: a tiny batch upsets batch-norm). */
  dropLast?: boolean;
  /** Position to start from (default epoch 0, batch 0). */
  start?: LoaderPosition;
}

interface Prefetched {
  epoch: number;
  batchIndex: number;
  batch: Promise<Batch>;
}

export class BatchLoader {
  readonly batchSize: number;
  readonly seed: number;
  readonly batchesPerEpoch: number;
  private readonly indices: Int32Array;
  private readonly maker: BatchMaker;
  private readonly pool: BatchWorkerPool | null;
  private readonly prefetch: number;
  private epoch = 0;
  private batchIndex = 0;
  private queue: Prefetched[] = [];
  private orders = new Map<number, Int32Array>();
  private closed = false;

  constructor(options: BatchLoaderOptions) {
    const { subset, batchSize, seed } = options;
    if (!(Number.isInteger(batchSize) && batchSize >= 1))
      throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
    const workers = options.workers ?? 1;
    if (!(Number.isInteger(workers) && workers >= 0))
      throw new RangeError(`workers must be an integer >= 0, got ${workers}`);
    this.batchSize = batchSize;
    this.seed = seed;
    this.indices = subset.indices;
    this.batchesPerEpoch = batchesPerEpoch(subset.indices.length, batchSize, options.dropLast ?? true);
    if (this.batchesPerEpoch === 0) {
      throw new RangeError(`${subset.indices.length} images make no batch of ${batchSize} (dropLast is on)`);
    }
    // Built on this thread too: it checks the options before any worker starts, and serves workers: 0.
    this.maker = new BatchMaker(subset.dataset, options.augment);
    this.prefetch = options.prefetch ?? 2 * Math.max(workers, 1);
    if (!(Number.isInteger(this.prefetch) && this.prefetch >= 1))
      throw new RangeError(`prefetch must be an integer >= 1, got ${this.prefetch}`);
    this.pool = workers > 0 ? new BatchWorkerPool(subset.dataset, options.augment, workers) : null;
    if (options.start) this.seek(options.start);
  }

  /** The position of the batch that next() returns; store it to resume. */
  get position(): LoaderPosition {
    return { epoch: this.epoch, batchIndex: this.batchIndex };
  }

  /** Moves the cursor; batches prefetched for other positions are dropped. */
  seek(position: LoaderPosition): void {
    const { epoch, batchIndex } = position;
    if (!(Number.isInteger(epoch) && epoch >= 0)) throw new RangeError(`epoch must be an integer >= 0, got ${epoch}`);
    if (!(Number.isInteger(batchIndex) && batchIndex >= 0 && batchIndex < this.batchesPerEpoch)) {
      throw new RangeError(`batchIndex must be in 0..${this.batchesPerEpoch - 1}, got ${batchIndex}`);
    }
    this.epoch = epoch;
    this.batchIndex = batchIndex;
    this.queue = this.queue.filter((p) => p.epoch > epoch || (p.epoch === epoch && p.batchIndex >= batchIndex));
    if (this.queue.length > 0 && (this.queue[0].epoch !== epoch || this.queue[0].batchIndex !== batchIndex))
      this.queue = [];
  }

  /** Dataset indices of batch (epoch, batchIndex). */
  batchIndices(epoch: number, batchIndex: number): Int32Array {
    let order = this.orders.get(epoch);
    if (!order) {
      order = epochOrder(this.seed, epoch, this.indices.length);
      this.orders.set(epoch, order);
      // Prefetch spans at most the current and the next epoch.
      for (const e of this.orders.keys()) if (e < epoch - 1 || e > epoch + 1) this.orders.delete(e);
    }
    const start = batchIndex * this.batchSize;
    const end = Math.min(start + this.batchSize, order.length);
    const out = new Int32Array(end - start);
    for (let i = start; i < end; i++) out[i - start] = this.indices[order[i]];
    return out;
  }

  /** Builds batch (epoch, batchIndex) on the calling thread, ignoring the cursor (for checks and tests). */
  makeBatch(epoch: number, batchIndex: number): Batch {
    return this.maker.make(this.batchIndices(epoch, batchIndex), batchSeed(this.seed, epoch, batchIndex));
  }

  /** The next batch; the cursor advances, rolling over into the next epoch. */
  async next(): Promise<LoadedBatch> {
    if (this.closed) throw new Error('the batch loader is closed');
    const { epoch, batchIndex } = this;
    this.advance();
    if (!this.pool) return { ...this.makeBatch(epoch, batchIndex), epoch, batchIndex };
    this.fillQueue(epoch, batchIndex);
    const head = this.queue.shift() as Prefetched;
    this.fillQueue(this.epoch, this.batchIndex);
    return { ...(await head.batch), epoch, batchIndex };
  }

  /** The batches from the cursor to the end of the current epoch. */
  async *epochBatches(): AsyncGenerator<LoadedBatch> {
    const epoch = this.epoch;
    while (this.epoch === epoch) yield await this.next();
  }

  /** Ends the worker threads. The loader cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    await this.pool?.close();
  }

  private advance(): void {
    this.batchIndex++;
    if (this.batchIndex === this.batchesPerEpoch) {
      this.batchIndex = 0;
      this.epoch++;
    }
  }

  /** Requests batches from (epoch, batchIndex) on until `prefetch` are queued. */
  private fillQueue(epoch: number, batchIndex: number): void {
    const pool = this.pool as BatchWorkerPool;
    if (this.queue.length > 0) {
      const last = this.queue[this.queue.length - 1];
      epoch = last.epoch;
      batchIndex = last.batchIndex + 1;
      if (batchIndex === this.batchesPerEpoch) {
        batchIndex = 0;
        epoch++;
      }
    }
    while (this.queue.length < this.prefetch) {
      const batch = pool.request(this.batchIndices(epoch, batchIndex), batchSeed(this.seed, epoch, batchIndex));
      // A prefetched batch may be dropped by seek() or close() and never awaited; keep its failure
      // from becoming an unhandled rejection (whoever awaits it still sees the error).
      batch.catch(() => {});
      this.queue.push({ epoch, batchIndex, batch });
      batchIndex++;
      if (batchIndex === this.batchesPerEpoch) {
        batchIndex = 0;
        epoch++;
      }
    }
  }
}
