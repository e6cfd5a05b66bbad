/**
 * Per-(stage, layer, op) MACs and parameters, computed once from shapes, so that the cost of a
 * path is a sum of lookups (the sampler and the board call it on every step).
 *
 * Every layer after the first of a stage has the same shape, so a stage needs two rows: row 0 for
 * the first layer (no skip) and row 1 for all later layers, however deep. Op index i in a row is
 * `stage.ops[i]`; index `ops.length` is `skip` (cost 0) in row 1.
 */
import type { Arch } from './arch.ts';
import { fixedCost } from './child-cost.ts';
import { type Cost, opCost } from './cost.ts';
import { SpaceError } from './errors.ts';
import { parseOp } from './ops.ts';
import { atResolution, layerAt, type SearchSpace } from './resolve.ts';

interface StageRows {
  /** op name -> index into the rows */
  index: Map<string, number>;
  skipIndex: number;
  macs: [Float64Array, Float64Array];
  params: [Float64Array, Float64Array];
}

export class CostTable {
  readonly space: SearchSpace;
  /** Cost of everything outside the searchable stages. */
  readonly fixed: Readonly<Cost>;
  private readonly rows: StageRows[];

  constructor(space: SearchSpace, resolution = space.resolution) {
    this.space = atResolution(space, resolution);
    this.fixed = Object.freeze(fixedCost(this.space));
    this.rows = this.space.stages.map((stage, si) => {
      const index = new Map<string, number>();
      stage.ops.forEach((name, i) => {
        index.set(name, i);
      });
      const skipIndex = stage.ops.length;
      if (stage.skip) index.set('skip', skipIndex);
      const width = skipIndex + 1;
      const macs: [Float64Array, Float64Array] = [new Float64Array(width), new Float64Array(width)];
      const params: [Float64Array, Float64Array] = [new Float64Array(width), new Float64Array(width)];
      for (let row = 0; row < 2; row++) {
        const shape = layerAt(this.space, si, row);
        stage.ops.forEach((name, i) => {
          const c = opCost(parseOp(name), shape, this.space.seRatio);
          macs[row][i] = c.macs;
          params[row][i] = c.params;
        });
      }
      // Row 0's skip slot is never read (validated); row 1's stays 0.
      macs[0][skipIndex] = Number.NaN;
      params[0][skipIndex] = Number.NaN;
      return { index, skipIndex, macs, params };
    });
  }

  /** Index of `op` at (stage, layer); throws a SpaceError if the op is not allowed there. */
  opIndex(stage: number, layer: number, op: string): number {
    const rows = this.rows[stage];
    if (!rows) throw new SpaceError(`stage ${stage} does not exist (${this.rows.length} searchable stages)`);
    const i = rows.index.get(op);
    if (i === undefined || (layer === 0 && i === rows.skipIndex)) {
      const allowed = layerAt(this.space, stage, layer).candidateNames;
      throw new SpaceError(
        `arch stage ${stage} layer ${layer}: op "${op}" is not allowed; allowed: ${allowed.join(', ')}`,
      );
    }
    return i;
  }

  /** Cost of one op at (stage, layer); layers past the supernet depth are priced like layer 1. */
  layerCost(stage: number, layer: number, op: string): Cost {
    const i = this.opIndex(stage, layer, op);
    const row = layer === 0 ? 0 : 1;
    return { macs: this.rows[stage].macs[row][i], params: this.rows[stage].params[row][i] };
  }

  /** MACs and params of the path (child network) `arch`. Unknown ops throw; depth is not limited. */
  pathCost(arch: Arch): Cost {
    let macs = this.fixed.macs;
    let params = this.fixed.params;
    if (arch.length !== this.rows.length) {
      throw new SpaceError(`arch: expected ${this.rows.length} stages, got ${arch.length}`);
    }
    for (let s = 0; s < arch.length; s++) {
      const ops = arch[s];
      const rows = this.rows[s];
      if (ops.length === 0) throw new SpaceError(`arch stage ${s}: empty (a stage has at least one layer)`);
      for (let l = 0; l < ops.length; l++) {
        const row = l === 0 ? 0 : 1;
        let i = rows.index.get(ops[l]);
        if (i === undefined || (row === 0 && i === rows.skipIndex)) i = this.opIndex(s, l, ops[l]);
        macs += rows.macs[row][i];
        params += rows.params[row][i];
      }
    }
    return { macs, params };
  }

  /** MACs of `arch` (see pathCost). */
  pathMacs(arch: Arch): number {
    return this.pathCost(arch).macs;
  }

  /**
   * Smallest and largest MACs of any path of supernet depth. Layers are priced independently, so
   * the extremes are per-layer minima/maxima summed (the DP over layers has no coupling terms).
   */
  macsRange(): { min: number; max: number } {
    let min = this.fixed.macs;
    let max = this.fixed.macs;
    this.space.stages.forEach((stage, s) => {
      for (let l = 0; l < stage.layers; l++) {
        const row = this.rows[s].macs[l === 0 ? 0 : 1];
        const n = l === 0 || !stage.skip ? stage.ops.length : stage.ops.length + 1;
        let lo = Number.POSITIVE_INFINITY;
        let hi = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < n; i++) {
          lo = Math.min(lo, row[i]);
          hi = Math.max(hi, row[i]);
        }
        min += lo;
        max += hi;
      }
    });
    return { min, max };
  }
}

const tables = new WeakMap<SearchSpace, Map<number, CostTable>>();

/** The cost table of `space` at `resolution`, built once and cached. */
export function costTable(space: SearchSpace, resolution = space.resolution): CostTable {
  let byRes = tables.get(space);
  if (!byRes) tables.set(space, (byRes = new Map()));
  let table = byRes.get(resolution);
  if (!table) byRes.set(resolution, (table = new CostTable(space, resolution)));
  return table;
}
