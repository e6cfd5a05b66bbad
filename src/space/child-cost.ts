/**
 * Whole-network MACs and parameters, computed by walking the network block by block (the
 * reference that the per-layer `CostTable` must agree with). Counting rules: cost.ts.
 */
import { type Arch, validateArch } from './arch.ts';
import { type Cost, CostCounter, convBnCost, dsCost, opCost } from './cost.ts';
import { parseOp } from './ops.ts';
import { atResolution, layerAt, type SearchSpace } from './resolve.ts';

/** Stem: conv kxk stride s (no bias), BN. */
export function stemCost(space: SearchSpace): Cost {
  const s = space.stem;
  return convBnCost(
    { inChannels: s.inChannels, outChannels: s.outChannels, stride: s.stride, inputSize: s.inputSize },
    s.kernel,
  );
}

/** Head and classifier: [conv1x1 + BN], global pool, [conv1x1 (+bias)], Linear(+bias). */
export function headCost(space: SearchSpace): Cost {
  const h = space.head;
  const c = new CostCounter();
  let channels = h.inChannels;
  if (h.convChannels !== undefined) {
    c.conv(channels, h.convChannels, 1, 1, h.inputSize);
    c.bn(h.convChannels, h.inputSize);
    channels = h.convChannels;
  }
  c.globalPool(channels, h.inputSize);
  if (h.features !== undefined) {
    c.conv(channels, h.features, 1, 1, 1, 1, h.bias);
    channels = h.features;
  }
  c.linear(channels, h.classes, true);
  return c.result();
}

/** Everything that does not depend on the architecture: stem, fixed blocks, head, classifier. */
export function fixedCost(space: SearchSpace): Cost {
  const c = new CostCounter();
  c.add(stemCost(space));
  for (const item of space.body) {
    if (item.kind !== 'fixed') continue;
    const b = item.block;
    c.add(b.kind === 'ds' ? dsCost(b, b.kernel, space.seRatio) : convBnCost(b, b.kernel));
  }
  c.add(headCost(space));
  return c.result();
}

/**
 * MACs and parameters of the child network of `arch` at `resolution` (default: the space's).
 * Stages may be deeper than the supernet; `skip` layers cost nothing.
 */
export function childCost(space: SearchSpace, arch: Arch, resolution = space.resolution): Cost {
  validateArch(space, arch, { allowDeeper: true });
  const sp = atResolution(space, resolution);
  const c = new CostCounter();
  c.add(fixedCost(sp));
  arch.forEach((ops, si) => {
    ops.forEach((name, li) => {
      c.add(opCost(parseOp(name), layerAt(sp, si, li), sp.seRatio));
    });
  });
  return c.result();
}

/**
 * Parameters of the whole supernet: every candidate op of every layer with its own weights
 * (`skip` has none), plus stem, fixed blocks and head.
 */
export function supernetParams(space: SearchSpace): number {
  let params = fixedCost(space).params;
  for (const stage of space.stages) {
    for (const layer of stage.layerInfo) {
      for (const op of layer.candidates) params += opCost(op, layer, space.seRatio).params;
    }
  }
  return params;
}
