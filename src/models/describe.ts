// A plain JSON description of a child network (blocks in order, with explicit channels and the
// names its tensors have in our state dicts). The PyTorch reference scripts build the same network
// from it, for speed comparisons and fixtures, without knowing anything about search spaces.
import { type Arch, layerAt, makeDivisible, parseOp, type SearchSpace } from '../space/index.ts';
import { seChannels } from './layer-op.ts';

export type BlockDescription =
  | { type: 'conv_bn_act'; name: string; cin: number; cout: number; k: number; stride: number; act: string }
  | { type: 'ds'; name: string; cin: number; cout: number; k: number; stride: number; se: number; act: string }
  | {
      type: 'mbconv';
      name: string;
      cin: number;
      cout: number;
      mid: number;
      k: number;
      stride: number;
      se: number;
      act: string;
    }
  | { type: 'resblock'; name: string; cin: number; cout: number; mid: number; k: number; stride: number; act: string }
  | {
      type: 'head';
      name: string;
      cin: number;
      conv: number | null;
      features: number | null;
      bias: boolean;
      dropout: number;
      classes: number;
      act: string;
    };

export interface NetworkDescription {
  /** [channels, height, width] */
  input: [number, number, number];
  classes: number;
  blocks: BlockDescription[];
}

export function describeNetwork(space: SearchSpace, arch: Arch): NetworkDescription {
  const act = space.activation;
  const s = space.stem;
  const blocks: BlockDescription[] = [
    { type: 'conv_bn_act', name: 'stem', cin: s.inChannels, cout: s.outChannels, k: s.kernel, stride: s.stride, act },
  ];
  for (const item of space.body) {
    if (item.kind === 'fixed') {
      const b = item.block;
      const name = `blocks.${b.position}`;
      blocks.push(
        b.kind === 'ds'
          ? {
              type: 'ds',
              name,
              cin: b.inChannels,
              cout: b.outChannels,
              k: b.kernel,
              stride: b.stride,
              se: seChannels(space, b.inChannels),
              act,
            }
          : { type: 'conv_bn_act', name, cin: b.inChannels, cout: b.outChannels, k: b.kernel, stride: b.stride, act },
      );
      continue;
    }
    const st = item.stage;
    arch[st.index].forEach((opName, l) => {
      const op = parseOp(opName);
      const layer = layerAt(space, st.index, l);
      const name = `blocks.${st.position}.${l}`;
      const { inChannels: cin, outChannels: cout, stride } = layer;
      if (op.kind === 'mbconv') {
        const mid = op.expansion === 1 ? cin : makeDivisible(cin * op.expansion, 8);
        blocks.push({ type: 'mbconv', name, cin, cout, mid, k: op.kernel, stride, se: seChannels(space, mid), act });
      } else if (op.kind === 'resblock') {
        blocks.push({
          type: 'resblock',
          name,
          cin,
          cout,
          mid: makeDivisible(cout / op.reduction, 8),
          k: op.kernel,
          stride,
          act,
        });
      } else if (op.kind === 'conv') {
        blocks.push({ type: 'conv_bn_act', name, cin, cout, k: op.kernel, stride, act });
      }
    });
  }
  const h = space.head;
  blocks.push({
    type: 'head',
    name: 'head',
    cin: h.inChannels,
    conv: h.convChannels ?? null,
    features: h.features ?? null,
    bias: h.bias,
    dropout: h.dropout,
    classes: h.classes,
    act,
  });
  return { input: [space.inputChannels, space.resolution, space.resolution], classes: space.classes, blocks };
}
