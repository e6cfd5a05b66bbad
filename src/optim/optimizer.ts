// Shared optimiser plumbing: named parameters, which of them get weight decay, and per-parameter
// state tensors that a checkpoint can save and restore.
import { keep, shapeString, Tensor } from '../tensor/index.ts';

export type NamedParameters = Iterable<[string, Tensor]>;

/** Default rule: no weight decay on 1-D parameters (biases, BN gamma/beta), as in the paper's code. */
export const decayOnlyMatrices = (_name: string, p: Tensor): boolean => p.rank > 1;

export abstract class Optimizer {
  protected readonly params: [string, Tensor][];
  /** Per-parameter state, e.g. `momentum.<param name>`. */
  protected readonly state = new Map<string, Tensor>();

  constructor(
    params: NamedParameters,
    protected readonly decays: (name: string, p: Tensor) => boolean = decayOnlyMatrices,
  ) {
    this.params = [...params];
    const seen = new Set<string>();
    for (const [name] of this.params) {
      if (seen.has(name)) throw new Error(`optimizer: parameter name ${name} appears twice`);
      seen.add(name);
    }
  }

  /** Updates every parameter that has a gradient; parameters without one (off-path) are untouched. */
  abstract step(lr: number): void;

  protected stateFor(kind: string, name: string, p: Tensor, init: number): { t: Tensor; fresh: boolean } {
    const key = `${kind}.${name}`;
    const existing = this.state.get(key);
    if (existing) return { t: existing, fresh: false };
    const t = keep(Tensor.full(p.shape, init));
    this.state.set(key, t);
    return { t, fresh: true };
  }

  stateDict(): Map<string, Tensor> {
    return new Map(this.state);
  }

  loadStateDict(source: Map<string, { shape: readonly number[]; data: ArrayLike<number> }>): void {
    const shapes = new Map(this.params.map(([n, p]) => [n, p.shape]));
    for (const [key, s] of source) {
      const name = key.slice(key.indexOf('.') + 1);
      const shape = shapes.get(name);
      if (!shape) throw new Error(`optimizer state: ${key} names no parameter of this model`);
      if (shape.length !== s.shape.length || shape.some((d, i) => d !== s.shape[i])) {
        throw new Error(
          `optimizer state: ${key} has shape ${shapeString(s.shape)}, parameter has ${shapeString(shape)}`,
        );
      }
    }
    for (const t of this.state.values()) t.dispose();
    this.state.clear();
    for (const [key, s] of source) this.state.set(key, keep(Tensor.from(s.data, s.shape)));
  }

  dispose(): void {
    for (const t of this.state.values()) t.dispose();
    this.state.clear();
  }
}
