// Buffers for tensor data, recycled through a pool keyed by element count. Training runs the same
// shapes every step, so after the first steps no large buffer is allocated (fresh large buffers cost
// page faults on first touch). Storage is reference counted: reshapes share one buffer.

import { native } from './native.ts';

export type DType = 'float32' | 'int32';
type Buffer = Float32Array | Int32Array;

const pools: Record<DType, Map<number, Buffer[]>> = { float32: new Map(), int32: new Map() };
let liveBytes = 0;
let peakLiveBytes = 0;
let pooledBytes = 0;
let liveStorages = 0;

export class Storage {
  private refs = 1;
  constructor(
    public data: Buffer,
    readonly dtype: DType,
  ) {
    liveBytes += data.byteLength;
    liveStorages++;
    if (liveBytes > peakLiveBytes) peakLiveBytes = liveBytes;
  }

  retain(): this {
    if (this.refs <= 0) throw new Error('Storage.retain: storage already released (tensor used after dispose)');
    this.refs++;
    return this;
  }

  /** Drops one reference; the last one returns the buffer to the pool. */
  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs > 0) return;
    liveBytes -= this.data.byteLength;
    liveStorages--;
    const bucket = pools[this.dtype].get(this.data.length);
    if (bucket) bucket.push(this.data);
    else pools[this.dtype].set(this.data.length, [this.data]);
    pooledBytes += this.data.byteLength;
    this.data = this.dtype === 'float32' ? EMPTY_F32 : EMPTY_I32;
  }

  get refCount(): number {
    return this.refs;
  }

  get released(): boolean {
    return this.refs <= 0;
  }
}

const EMPTY_F32 = new Float32Array(0);
const EMPTY_I32 = new Int32Array(0);

/** A storage of `length` elements; contents are arbitrary unless `zero` is set. */
export function allocate(length: number, dtype: DType, zero = false): Storage {
  const bucket = pools[dtype].get(length);
  const reused = bucket?.pop();
  if (reused) {
    pooledBytes -= reused.byteLength;
    if (zero) reused.fill(0);
    return new Storage(reused, dtype);
  }
  return new Storage(newBuffer(length, dtype), dtype);
}

/**
 * Large buffers start on a page boundary. The allocator otherwise leaves them at arbitrary offsets
 * within their pages, different in every run: a kernel that reads row r of one tensor and writes row
 * r of another then meets 32-byte vectors split across cache lines and loads that falsely wait on
 * stores 4 KiB apart (the CPU compares addresses modulo 4096). With every tensor at offset 0, the
 * training step no longer depends on where a run's buffers happened to land.
 */
const PAGE_BYTES = 4096;
const PAGE_ALIGNED_FROM_BYTES = 64 * 1024;

function newBuffer(length: number, dtype: DType): Buffer {
  const bytes = length * 4;
  if (bytes < PAGE_ALIGNED_FROM_BYTES) return dtype === 'float32' ? new Float32Array(length) : new Int32Array(length);
  const raw = new ArrayBuffer(bytes + PAGE_BYTES);
  const start = (PAGE_BYTES - (native.pageOffset(new Uint8Array(raw, 0, 1)) as number)) % PAGE_BYTES;
  return dtype === 'float32' ? new Float32Array(raw, start, length) : new Int32Array(raw, start, length);
}

export interface MemoryStats {
  /** Bytes held by tensors not yet disposed. */
  liveBytes: number;
  peakLiveBytes: number;
  /** Bytes kept in the pool for reuse. */
  pooledBytes: number;
  liveStorages: number;
}

export function memoryStats(): MemoryStats {
  return { liveBytes, peakLiveBytes, pooledBytes, liveStorages };
}

/** Frees the pooled buffers (they go back to the garbage collector). */
export function releasePool(): void {
  pools.float32.clear();
  pools.int32.clear();
  pooledBytes = 0;
}

export function resetPeakLiveBytes(): void {
  peakLiveBytes = liveBytes;
}
