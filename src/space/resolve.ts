/**
 * A `SearchSpace` is a space file with every shape worked out: for each block its input and output
 * channels, stride and input/output spatial size at the space's resolution, and for each searchable
 * layer the candidate ops. The models layer builds the supernet and child networks from this alone:
 *
 *   stem -> body (fixed blocks and searchable stages, in file order) -> head -> classifier
 *
 * A searchable stage's first layer maps inChannels -> outChannels with the stage's stride; every
 * later layer maps outChannels -> outChannels with stride 1 (so `skip` is an identity there).
 * Child networks may be deeper than `layers`: `layerAt(stage, i)` describes any layer index.
 */
import { SpaceError } from './errors.ts';
import { convOutputSize, type OpSpec, parseOp } from './ops.ts';
import type { SpaceSpec } from './schema.ts';

export interface ResolvedLayer {
  /** Searchable stage index (position in the architecture list). */
  stage: number;
  layer: number;
  inChannels: number;
  outChannels: number;
  stride: number;
  /** Spatial size (H = W) of this layer's input and output. */
  inputSize: number;
  outputSize: number;
  /** Allowed ops, in the space's order, `skip` last when allowed. Never `skip` for layer 0. */
  candidates: readonly OpSpec[];
  candidateNames: readonly string[];
}

export interface SearchStage {
  /** Index in the architecture (searchable stages only). */
  index: number;
  /** Index in the space file's `stages` list. */
  position: number;
  inChannels: number;
  outChannels: number;
  /** Stride of the first layer. */
  stride: number;
  /** Supernet depth. */
  layers: number;
  inputSize: number;
  outputSize: number;
  /** Non-skip ops allowed in this stage. */
  ops: readonly string[];
  /** Whether layers after the first may be `skip`. */
  skip: boolean;
  /** Op of a one-layer stage in the official index form, if declared. */
  template?: string;
  /** The supernet's layers (`layers` entries). */
  layerInfo: readonly ResolvedLayer[];
}

/** A fixed block: `ds` = DepthwiseSeparable (dw kxk, BN, act, SE, pw 1x1, BN, residual when shapes allow); `conv` = ConvBnAct. */
export interface FixedBlock {
  kind: 'ds' | 'conv';
  position: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  inputSize: number;
  outputSize: number;
}

export type BodyItem = { kind: 'fixed'; block: FixedBlock } | { kind: 'search'; stage: SearchStage };

export interface SearchSpace {
  name: string;
  spec: SpaceSpec;
  /** Input H = W this space was resolved at (spec.input.size unless re-resolved). */
  resolution: number;
  inputChannels: number;
  classes: number;
  activation: SpaceSpec['activation'];
  /** SE ratio; 0 = no SE in MBConv / ds blocks. */
  seRatio: number;
  /** Stem: conv kxk stride s, no bias, BN, act. */
  stem: {
    inChannels: number;
    outChannels: number;
    kernel: number;
    stride: number;
    inputSize: number;
    outputSize: number;
  };
  body: readonly BodyItem[];
  /** Searchable stages only, in order (same objects as in `body`). */
  stages: readonly SearchStage[];
  /**
   * Head: [conv 1x1 inChannels->convChannels, BN, act] if convChannels, global avg pool,
   * [conv 1x1 ->features (+bias if bias), act] if features, flatten, dropout, Linear(->classes, bias).
   */
  head: {
    inChannels: number;
    inputSize: number;
    convChannels?: number;
    features?: number;
    bias: boolean;
    dropout: number;
    /** Width entering the classifier. */
    classifierIn: number;
    classes: number;
  };
}

const SKIP = parseOp('skip');

/** Work out every shape of `spec` at `resolution` (default: the spec's input size). */
export function resolveSpace(spec: SpaceSpec, name = spec.name ?? 'space', resolution = spec.input.size): SearchSpace {
  if (!Number.isInteger(resolution) || resolution < 1) {
    throw new SpaceError(`resolution must be a positive integer, got ${resolution}`);
  }
  const st = spec.stem;
  let size = convOutputSize(resolution, st.kernel, st.stride);
  const stem = {
    inChannels: spec.input.channels,
    outChannels: st.channels,
    kernel: st.kernel,
    stride: st.stride,
    inputSize: resolution,
    outputSize: size,
  };
  let channels = st.channels;
  const body: BodyItem[] = [];
  const stages: SearchStage[] = [];
  spec.stages.forEach((s, position) => {
    if (s.type === 'search') {
      const ops = s.ops ?? spec.ops;
      const skip = s.skip ?? spec.skip;
      const first = ops.map(parseOp);
      const rest = skip ? [...first, SKIP] : first;
      const index = stages.length;
      // Every op pads k//2, so the output size does not depend on the op's kernel.
      const outSize = convOutputSize(size, 3, s.stride);
      const layerInfo: ResolvedLayer[] = [];
      for (let layer = 0; layer < s.layers; layer++) {
        const cands = layer === 0 ? first : rest;
        layerInfo.push({
          stage: index,
          layer,
          inChannels: layer === 0 ? channels : s.channels,
          outChannels: s.channels,
          stride: layer === 0 ? s.stride : 1,
          inputSize: layer === 0 ? size : outSize,
          outputSize: outSize,
          candidates: cands,
          candidateNames: cands.map((o) => o.name),
        });
      }
      const stage: SearchStage = {
        index,
        position,
        inChannels: channels,
        outChannels: s.channels,
        stride: s.stride,
        layers: s.layers,
        inputSize: size,
        outputSize: outSize,
        ops,
        skip,
        template: s.template,
        layerInfo,
      };
      stages.push(stage);
      body.push({ kind: 'search', stage });
      channels = s.channels;
      size = outSize;
    } else {
      const outSize = convOutputSize(size, s.kernel, s.stride);
      body.push({
        kind: 'fixed',
        block: {
          kind: s.type,
          position,
          inChannels: channels,
          outChannels: s.channels,
          kernel: s.kernel,
          stride: s.stride,
          inputSize: size,
          outputSize: outSize,
        },
      });
      channels = s.channels;
      size = outSize;
    }
  });
  const h = spec.head;
  const classifierIn = h.features ?? h.channels ?? channels;
  return deepFreeze({
    name,
    spec,
    resolution,
    inputChannels: spec.input.channels,
    classes: spec.classes,
    activation: spec.activation,
    seRatio: spec.se,
    stem,
    body,
    stages,
    head: {
      inChannels: channels,
      inputSize: size,
      convChannels: h.channels,
      features: h.features,
      bias: h.bias,
      dropout: h.dropout,
      classifierIn,
      classes: spec.classes,
    },
  });
}

/** Resolved spaces are shared (presets are cached): freeze them so no caller can alter another's. */
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** The same space at another input resolution (every size recomputed). */
export function atResolution(space: SearchSpace, resolution: number): SearchSpace {
  if (resolution === space.resolution) return space;
  return resolveSpace(space.spec, space.name, resolution);
}

/**
 * Shapes of layer `layer` of searchable stage `stage`, for any depth (child networks may be deeper
 * than the supernet: every layer after the first has the shape of layer 1).
 */
export function layerAt(space: SearchSpace, stage: number, layer: number): ResolvedLayer {
  const s = space.stages[stage];
  if (!s)
    throw new SpaceError(`stage ${stage} does not exist (the space has ${space.stages.length} searchable stages)`);
  if (!Number.isInteger(layer) || layer < 0) throw new SpaceError(`stage ${stage}: bad layer index ${layer}`);
  if (layer < s.layers) return s.layerInfo[layer];
  const cands = s.skip ? [...s.ops.map(parseOp), SKIP] : s.ops.map(parseOp);
  return {
    stage,
    layer,
    inChannels: s.outChannels,
    outChannels: s.outChannels,
    stride: 1,
    inputSize: s.outputSize,
    outputSize: s.outputSize,
    candidates: cands,
    candidateNames: cands.map((o) => o.name),
  };
}
