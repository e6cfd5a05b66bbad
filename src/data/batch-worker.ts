// A loader worker: builds batches from the shared dataset bytes and hands them back by transfer.
// The dataset arrives once in workerData as SharedArrayBuffer views (no copy); each request carries
// only the batch's indices and seed, so the result does not depend on which worker builds it.

import { parentPort, workerData } from 'node:worker_threads';
import type { AugmentOptions } from './augment.ts';
import { BatchMaker, type PixelSource } from './batch.ts';

export interface BatchWorkerData {
  source: PixelSource;
  augment: AugmentOptions;
}

export interface BatchRequest {
  id: number;
  indices: Int32Array;
  seed: number;
}

export type BatchReply =
  | { id: number; images: Float32Array; labels: Int32Array; error?: undefined }
  | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('batch-worker.ts must run in a worker thread');
const { source, augment } = workerData as BatchWorkerData;
const maker = new BatchMaker(source, augment);

port.on('message', (request: BatchRequest) => {
  let reply: BatchReply;
  try {
    const batch = maker.make(request.indices, request.seed);
    reply = { id: request.id, images: batch.images, labels: batch.labels };
    port.postMessage(reply, [batch.images.buffer as ArrayBuffer, batch.labels.buffer as ArrayBuffer]);
  } catch (err) {
    reply = { id: request.id, error: (err as Error).stack ?? String(err) };
    port.postMessage(reply);
  }
});
