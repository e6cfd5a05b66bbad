// Builds the module of one searchable-layer choice. Shared by the supernet (one per choice) and the
// child network (one per layer), so an inherited weight always has the same name and shape.
import { type Activation, ConvBnAct, type InitRandom, MBConv, type Module, ResBlock } from '../nn/index.ts';
import { makeDivisible, type OpSpec, type ResolvedLayer, type SearchSpace } from '../space/index.ts';
import type { Tensor } from '../tensor/index.ts';

export interface LayerModule extends Module {
  forward(x: Tensor): Tensor;
}

export function spaceActivation(space: SearchSpace): Activation {
  return space.activation;
}

/** SE reduced width of the Cream blocks: make_divisible(mid * ratio, 8); 0 when SE is off. */
export function seChannels(space: SearchSpace, mid: number): number {
  return space.seRatio > 0 ? makeDivisible(mid * space.seRatio, 8) : 0;
}

/** The module for `op` at `layer`, or null for `skip` (identity). */
export function buildLayerOp(
  space: SearchSpace,
  layer: ResolvedLayer,
  op: OpSpec,
  rng: InitRandom,
): LayerModule | null {
  const act = spaceActivation(space);
  const { inChannels: cin, outChannels: cout, stride } = layer;
  switch (op.kind) {
    case 'skip':
      if (stride !== 1 || cin !== cout) {
        throw new Error(`skip at stage ${layer.stage} layer ${layer.layer} needs stride 1 and equal channels`);
      }
      return null;
    case 'mbconv': {
      const mid = op.expansion === 1 ? cin : makeDivisible(cin * op.expansion, 8);
      return new MBConv(
        {
          inChannels: cin,
          outChannels: cout,
          midChannels: mid,
          kernel: op.kernel,
          stride,
          seChannels: seChannels(space, mid),
          act,
        },
        rng,
      );
    }
    case 'resblock':
      return new ResBlock(cin, cout, makeDivisible(cout / op.reduction, 8), op.kernel, stride, act, rng);
    case 'conv':
      return new ConvBnAct(cin, cout, op.kernel, rng, { stride, act });
  }
}
