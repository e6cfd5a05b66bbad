// The weight-sharing supernet: one module per (stage, layer, op); a forward runs one path, so only
// that path's parameters (and BN statistics) are touched.
import type { InitRandom, Module } from '../nn/index.ts';
import { type Arch, parseOp, type SearchSpace } from '../space/index.ts';
import type { Tensor } from '../tensor/index.ts';
import { buildLayerOp, type LayerModule } from './layer-op.ts';
import { NetworkBase } from './network-base.ts';

export class Supernet extends NetworkBase {
  /** choices[stage][layer].get(opName): the module, or null for skip. */
  readonly choices: Map<string, LayerModule | null>[][];

  constructor(space: SearchSpace, rng: InitRandom) {
    const choices: Map<string, LayerModule | null>[][] = [];
    super(space, rng, (stage) => {
      const named: [string, Module][] = [];
      choices[stage.index] = stage.layerInfo.map((layer) => {
        const ops = new Map<string, LayerModule | null>();
        for (const op of layer.candidates) {
          const m = buildLayerOp(space, layer, op, rng);
          ops.set(op.name, m);
          if (m) named.push([`${layer.layer}.${op.name}`, m]);
        }
        return ops;
      });
      return named;
    });
    this.choices = choices;
  }

  /** Checks that `path` names one candidate per supernet layer. */
  checkPath(path: Arch): void {
    if (path.length !== this.choices.length) {
      throw new Error(`path has ${path.length} stages, the supernet has ${this.choices.length}`);
    }
    path.forEach((ops, s) => {
      if (ops.length !== this.choices[s].length) {
        throw new Error(`path stage ${s} has ${ops.length} layers, the supernet stage has ${this.choices[s].length}`);
      }
      ops.forEach((op, l) => {
        if (!this.choices[s][l].has(op)) {
          throw new Error(
            `path stage ${s} layer ${l}: op ${op} is not a choice here (${[...this.choices[s][l].keys()].join(', ')})`,
          );
        }
      });
    });
  }

  forward(x: Tensor, path: Arch): Tensor {
    this.checkPath(path);
    return this.run(x, (s, y) => {
      let out = y;
      path[s].forEach((op, l) => {
        const m = this.choices[s][l].get(op);
        if (m) out = m.forward(out);
      });
      return out;
    });
  }

  /** The modules a forward of `path` runs: stem, fixed blocks, the path's ops, head. */
  pathModules(path: Arch): Module[] {
    this.checkPath(path);
    const mods: Module[] = [this.stem, ...this.fixed.values(), this.head];
    path.forEach((ops, s) => {
      ops.forEach((op, l) => {
        const m = this.choices[s][l].get(op);
        if (m) mods.push(m);
      });
    });
    return mods;
  }

  /** Parameters a forward of `path` uses (for the meta-gradient's inner product and per-path updates). */
  *pathParameters(path: Arch): Generator<[string, Tensor]> {
    const onPath = new Set<string>();
    for (let s = 0; s < path.length; s++) {
      const position = this.space.stages[s].position;
      path[s].forEach((op, l) => {
        if (parseOp(op).kind !== 'skip') onPath.add(`blocks.${position}.${l}.${op}.`);
      });
    }
    const searchPrefixes = new Set(this.space.stages.map((st) => `blocks.${st.position}.`));
    for (const [name, p] of this.namedParameters()) {
      const searchable = [...searchPrefixes].some((pre) => name.startsWith(pre));
      if (!searchable || [...onPath].some((pre) => name.startsWith(pre))) yield [name, p];
    }
  }

  /** Name of a child-network tensor in the supernet: `blocks.P.L.<rest>` -> `blocks.P.L.<op>.<rest>`. */
  supernetName(childName: string, arch: Arch): string {
    const m = /^blocks\.(\d+)\.(\d+)\.(.*)$/.exec(childName);
    if (!m) return childName;
    const stage = this.space.stages.find((st) => st.position === Number(m[1]));
    if (!stage) return childName;
    return `blocks.${m[1]}.${m[2]}.${arch[stage.index][Number(m[2])]}.${m[3]}`;
  }
}
