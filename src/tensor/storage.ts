// Buffers for tensor data, recycled through a pool keyed by element count. Training runs the same
// shapes every step, so after the first steps no large buffer is allocated (fresh large buffers cost
// page faults on first touch). Storage is reference counted: reshapes share one buffer.

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
  return new Storage(dtype === 'float32' ? new Float32Array(length) : new Int32Array(length), dtype);
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
