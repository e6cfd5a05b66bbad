// The Tensor: a shape over reference-counted float32 (or int32, for labels) storage, with the
// autograd fields the tape needs. Lifetime is explicit: `dispose()` or a `tidy` scope.
import { keep, setTensorCheck, track } from './scope.ts';
import { allocate, type DType, type Storage } from './storage.ts';

export type Shape = readonly number[];

/** A recorded operation: how to turn the gradient of its output into gradients of its inputs. */
export interface TapeNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /**
   * Returns one gradient per input (null where an input needs none). Returned tensors are owned by
   * the caller: to pass `gradOut` through unchanged, return `gradOut.share()`.
   */
  backward(gradOut: Tensor): (Tensor | null)[];
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]: dimension ${d}`);
    n *= d;
  }
  return n;
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  requiresGrad = false;
  /** Accumulated gradient (leaves only, after `backward`). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when recorded on the tape. */
  node: TapeNode | null = null;
  private storage: Storage;
  private alive = true;

  constructor(shape: Shape, storage: Storage) {
    const size = sizeOf(shape);
    if (storage.data.length !== size) {
      throw new Error(`Tensor: shape ${shapeString(shape)} needs ${size} elements, storage has ${storage.data.length}`);
    }
    this.shape = Object.freeze([...shape]);
    this.size = size;
    this.storage = storage;
    track(this);
  }

  static empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(shape, allocate(sizeOf(shape), dtype));
  }

  static zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(shape, allocate(sizeOf(shape), dtype, true));
  }

  static full(shape: Shape, value: number): Tensor {
    const t = Tensor.empty(shape);
    t.f32.fill(value);
    return t;
  }

  /** Copies `values` into a new tensor. */
  static from(values: ArrayLike<number>, shape: Shape = [values.length], dtype: DType = 'float32'): Tensor {
    const t = Tensor.empty(shape, dtype);
    if (values.length !== t.size) {
      throw new Error(`Tensor.from: ${values.length} values do not fill shape ${shapeString(shape)}`);
    }
    t.data.set(values);
    return t;
  }

  static scalar(value: number): Tensor {
    return Tensor.from([value], []);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }

  get data(): Float32Array | Int32Array {
    if (!this.alive) throw new Error(`tensor ${shapeString(this.shape)} used after dispose`);
    return this.storage.data;
  }

  /** The data as float32; throws for int32 tensors. */
  get f32(): Float32Array {
    const d = this.data;
    if (!(d instanceof Float32Array)) throw new Error(`expected a float32 tensor, got ${this.dtype}`);
    return d;
  }

  get i32(): Int32Array {
    const d = this.data;
    if (!(d instanceof Int32Array)) throw new Error(`expected an int32 tensor, got ${this.dtype}`);
    return d;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** True when no other tensor shares this storage, so it may be written in place. */
  get exclusive(): boolean {
    return this.storage.refCount === 1;
  }

  get disposed(): boolean {
    return !this.alive;
  }

  /** A new tensor object over the same storage (one more reference). Not recorded on the tape. */
  share(shape: Shape = this.shape): Tensor {
    if (sizeOf(shape) !== this.size) {
      throw new Error(`share: cannot view ${shapeString(this.shape)} as ${shapeString(shape)}`);
    }
    return new Tensor(shape, this.storage.retain());
  }

  /** A copy with its own storage, not recorded on the tape. */
  clone(): Tensor {
    const t = Tensor.empty(this.shape, this.dtype);
    t.data.set(this.data);
    return t;
  }

  /** The first element, as a number (for scalars such as a loss). */
  item(): number {
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** Marks this tensor as a trainable leaf and removes it from scope tracking. */
  asParameter(): this {
    this.requiresGrad = true;
    keep(this);
    return this;
  }

  /** Releases this tensor's reference to its storage; calling it twice is harmless. */
  dispose(): void {
    this.node = null;
    if (!this.alive) return;
    this.alive = false;
    this.storage.release();
  }

  toString(): string {
    return `Tensor(${shapeString(this.shape)}, ${this.dtype})`;
  }
}

setTensorCheck((v: unknown): v is Tensor => v instanceof Tensor);
