// A small pool of batch workers (worker_threads). Requests go to the least busy worker; results
// come back as transferred buffers. A worker holds the process open only while it has requests in
// flight (ref/unref), so a forgotten close() cannot hang a finished program; close() still ends the
// threads promptly and is what tests and the trainer call.

import { Worker } from 'node:worker_threads';
import type { AugmentOptions } from './augment.ts';
import type { Batch, PixelSource } from './batch.ts';
import type { BatchReply, BatchRequest, BatchWorkerData } from './batch-worker.ts';
import { toShared } from './dataset.ts';

interface Pending {
  resolve: (batch: Batch) => void;
  reject: (err: Error) => void;
  size: number;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  failure: Error | null;
}

const BOOTSTRAP = new URL('./batch-worker.mjs', import.meta.url);

export class BatchWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly source: PixelSource;
  private nextId = 0;
  private closed = false;

  constructor(source: PixelSource, augment: AugmentOptions, workers: number) {
    if (!(Number.isInteger(workers) && workers >= 1))
      throw new RangeError(`workers must be an integer >= 1, got ${workers}`);
    this.source = source;
    const { height, width, channels } = source;
    // Shared memory reaches every worker without a copy; anything else would be cloned per worker.
    const images = toShared(source.images);
    const labels = toShared(source.labels);
    const data: BatchWorkerData = { source: { images, labels, height, width, channels }, augment };
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(BOOTSTRAP, { workerData: data, name: `cream-data-${i}` });
      const slot: Slot = { worker, pending: new Map(), failure: null };
      worker.on('message', (reply: BatchReply) => this.settle(slot, reply));
      worker.on('error', (err) => this.fail(slot, err));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(slot, new Error(`data loader worker ${i} exited with code ${code}`));
      });
      worker.unref();
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Asks a worker for the batch of dataset `indices` augmented with `seed`. */
  request(indices: Int32Array, seed: number): Promise<Batch> {
    if (this.closed) return Promise.reject(new Error('the data loader worker pool is closed'));
    const alive = this.slots.filter((s) => !s.failure);
    if (alive.length === 0) return Promise.reject(this.slots[0].failure as Error);
    const slot = alive.reduce((best, s) => (s.pending.size < best.pending.size ? s : best));
    const id = this.nextId++;
    return new Promise<Batch>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, size: indices.length });
      if (slot.pending.size === 1) slot.worker.ref();
      const request: BatchRequest = { id, indices, seed };
      slot.worker.postMessage(request, [indices.buffer as ArrayBuffer]);
    });
  }

  private settle(slot: Slot, reply: BatchReply): void {
    const pending = slot.pending.get(reply.id);
    if (!pending) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    if (reply.error !== undefined) {
      pending.reject(new Error(`data loader worker failed: ${reply.error}`));
      return;
    }
    const { height, width, channels } = this.source;
    pending.resolve({ images: reply.images, labels: reply.labels, size: pending.size, height, width, channels });
  }

  private fail(slot: Slot, err: Error): void {
    slot.failure ??= err;
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
    slot.worker.unref();
  }

  /** Ends all worker threads; pending requests are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing = new Error('the data loader worker pool was closed');
    for (const slot of this.slots) {
      for (const p of slot.pending.values()) p.reject(closing);
      slot.pending.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
