// A stand-alone network for one architecture (any depth per stage), for retraining, evaluation and
// export. Its tensor names are the supernet's with the op name dropped, so weights can be inherited.
import type { InitRandom, Module } from '../nn/index.ts';
import { type Arch, layerAt, parseOp, type SearchSpace, validateArch } from '../space/index.ts';
import { noGrad, type Tensor } from '../tensor/index.ts';
import { buildLayerOp, type LayerModule } from './layer-op.ts';
import { NetworkBase } from './network-base.ts';
import type { Supernet } from './supernet.ts';

export class ChildNetwork extends NetworkBase {
  /** layers[stage][layer]: the module, or null for skip. */
  readonly layers: (LayerModule | null)[][];

  constructor(
    space: SearchSpace,
    readonly arch: Arch,
    rng: InitRandom,
  ) {
    validateArch(space, arch, { allowDeeper: true });
    const layers: (LayerModule | null)[][] = [];
    super(space, rng, (stage) => {
      const named: [string, Module][] = [];
      layers[stage.index] = arch[stage.index].map((op, l) => {
        const m = buildLayerOp(space, layerAt(space, stage.index, l), parseOp(op), rng);
        if (m) named.push([`${l}`, m]);
        return m;
      });
      return named;
    });
    this.layers = layers;
  }

  forward(x: Tensor): Tensor {
    return this.run(x, (s, y) => {
      let out = y;
      for (const m of this.layers[s]) if (m) out = m.forward(out);
      return out;
    });
  }

  /** Copies this architecture's weights and BN statistics out of a supernet (same space). */
  inheritFrom(supernet: Supernet): void {
    const source = supernet.stateDict();
    noGrad(() => {
      for (const [name, t] of this.stateDict()) {
        const from = source.get(supernet.supernetName(name, this.arch));
        if (!from)
          throw new Error(
            `inheritFrom: the supernet has no tensor for ${name} (is the architecture deeper than the supernet?)`,
          );
        if (from.size !== t.size)
          throw new Error(`inheritFrom: ${name} has ${t.size} values, supernet's has ${from.size}`);
        t.f32.set(from.f32);
      }
    });
  }
}
