// Inference form of a child network, shared by the fast path (inference.ts) and the ONNX / TF.js exporters:
// batch-norm folded into the preceding convolution (w' = w * gamma / sqrt(var + eps), b' = beta -
// mean * gamma / sqrt(var + eps)), blocks flattened into a list of ops over named values.
import {
  type Activation,
  type BatchNorm2d,
  type Conv2d,
  ConvBnAct,
  DepthwiseSeparable,
  type Linear,
  MBConv,
  type Module,
  ResBlock,
  type SqueezeExcite,
} from '../nn/index.ts';
import type { ChildNetwork } from './child-network.ts';

/** A network holds a module or activation the inference form (and so the exporters) cannot express. */
export class UnsupportedOpError extends Error {
  override name = 'UnsupportedOpError';
}

interface OpBase {
  /** The module's state-dict prefix (e.g. `blocks.2.0.conv_pw`), also used as the output's name. */
  name: string;
  output: string;
}

/** Convolution with folded BN: weight HWIO [k, k, in, out], or [k, k, C] when depthwise. */
export interface ConvOp extends OpBase {
  kind: 'conv';
  input: string;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  depthwise: boolean;
  weight: Float32Array;
  bias: Float32Array;
  act: Activation;
}

/** Squeeze-excite: pool, dense + ReLU, dense, hard-sigmoid relu6(x + 3) / 6, channel scaling. Weights [in, out]. */
export interface SqueezeExciteOp extends OpBase {
  kind: 'se';
  input: string;
  channels: number;
  reduced: number;
  reduceWeight: Float32Array;
  reduceBias: Float32Array;
  expandWeight: Float32Array;
  expandBias: Float32Array;
}

export interface AddOp extends OpBase {
  kind: 'add';
  inputs: [string, string];
  act: Activation;
}

/** Global average pool: [N, H, W, C] -> [N, C]. */
export interface PoolOp extends OpBase {
  kind: 'pool';
  input: string;
}

/** Fully connected on [N, in]: weight [in, out]. */
export interface DenseOp extends OpBase {
  kind: 'dense';
  input: string;
  inFeatures: number;
  outFeatures: number;
  weight: Float32Array;
  bias: Float32Array | null;
  act: Activation;
}

export type InferenceOp = ConvOp | SqueezeExciteOp | AddOp | PoolOp | DenseOp;

export interface InferenceGraph {
  /** The input value's name ('input'), NHWC. */
  input: string;
  /** [height, width, channels] of one image. */
  inputShape: [number, number, number];
  output: string;
  classes: number;
  /** In execution order; every op reads values written by earlier ops (or the input). */
  ops: InferenceOp[];
}

const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'relu6', 'swish', 'hswish'];

function checkAct(act: Activation, where: string): Activation {
  if (!ACTIVATIONS.includes(act)) throw new UnsupportedOpError(`${where}: activation "${act}" cannot be exported`);
  return act;
}

/** Scale and shift of an eval-mode BN, in double: y = x * scale + shift. */
function bnAffine(bn: BatchNorm2d): { scale: Float64Array; shift: Float64Array } {
  const c = bn.channels;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  const [g, b, m, v] = [bn.weight.f32, bn.bias.f32, bn.runningMean.f32, bn.runningVar.f32];
  for (let i = 0; i < c; i++) {
    scale[i] = g[i] / Math.sqrt(v[i] + bn.eps);
    shift[i] = b[i] - m[i] * scale[i];
  }
  return { scale, shift };
}

function foldConv(conv: Conv2d, bn: BatchNorm2d, name: string, input: string, act: Activation): ConvOp {
  if (conv.groups !== 1 && !conv.depthwise) {
    throw new UnsupportedOpError(`${name}: grouped convolution (groups ${conv.groups}) cannot be exported`);
  }
  const { scale, shift } = bnAffine(bn);
  const cout = conv.outChannels;
  const w = conv.weight.f32;
  const weight = new Float32Array(w.length);
  // Output channels are the last axis in both layouts (HWIO and depthwise [k, k, C]).
  for (let i = 0; i < w.length; i++) weight[i] = w[i] * scale[i % cout];
  const bias = new Float32Array(cout);
  const convBias = conv.bias?.f32;
  for (let o = 0; o < cout; o++) bias[o] = shift[o] + (convBias ? convBias[o] * scale[o] : 0);
  return {
    kind: 'conv',
    name,
    input,
    output: name,
    inChannels: conv.inChannels,
    outChannels: cout,
    kernel: conv.kernel,
    stride: conv.stride,
    padding: conv.padding,
    depthwise: conv.depthwise,
    weight,
    bias,
    act: checkAct(act, name),
  };
}

function dense(l: Linear, name: string, input: string, act: Activation): DenseOp {
  return {
    kind: 'dense',
    name,
    input,
    output: name,
    inFeatures: l.inFeatures,
    outFeatures: l.outFeatures,
    weight: l.weight.f32.slice(),
    bias: l.bias ? l.bias.f32.slice() : null,
    act: checkAct(act, name),
  };
}

function squeezeExcite(se: SqueezeExcite, name: string, input: string): SqueezeExciteOp {
  return {
    kind: 'se',
    name,
    input,
    output: name,
    channels: se.convReduce.inFeatures,
    reduced: se.convReduce.outFeatures,
    reduceWeight: se.convReduce.weight.f32.slice(),
    reduceBias: se.convReduce.bias ? se.convReduce.bias.f32.slice() : new Float32Array(se.convReduce.outFeatures),
    expandWeight: se.convExpand.weight.f32.slice(),
    expandBias: se.convExpand.bias ? se.convExpand.bias.f32.slice() : new Float32Array(se.convExpand.outFeatures),
  };
}

/** Appends the ops of one block reading `input`; returns the name of its output. */
function lowerBlock(m: Module, name: string, input: string, ops: InferenceOp[], what: string): string {
  const last = (): string => ops[ops.length - 1].output;
  if (m instanceof ConvBnAct) {
    ops.push(foldConv(m.conv, m.bn, name, input, m.opts.act ?? 'swish'));
  } else if (m instanceof DepthwiseSeparable) {
    const act = m.opts.act ?? 'swish';
    ops.push(foldConv(m.convDw, m.bn1, `${name}.conv_dw`, input, act));
    if (m.se) ops.push(squeezeExcite(m.se, `${name}.se`, last()));
    ops.push(foldConv(m.convPw, m.bn2, `${name}.conv_pw`, last(), 'none'));
    if (m.residual) ops.push({ kind: 'add', name, output: name, inputs: [last(), input], act: 'none' });
  } else if (m instanceof MBConv) {
    const act = m.config.act;
    if (m.convPw && m.bn1) ops.push(foldConv(m.convPw, m.bn1, `${name}.conv_pw`, input, act));
    ops.push(foldConv(m.convDw, m.bn2, `${name}.conv_dw`, m.convPw ? last() : input, act));
    if (m.se) ops.push(squeezeExcite(m.se, `${name}.se`, last()));
    ops.push(foldConv(m.convPwl, m.bn3, `${name}.conv_pwl`, last(), 'none'));
    if (m.residual) ops.push({ kind: 'add', name, output: name, inputs: [last(), input], act: 'none' });
  } else if (m instanceof ResBlock) {
    // The projection shortcut first, so that conv3 can accumulate onto it (see compile).
    let shortcut = input;
    if (m.downConv && m.downBn) {
      ops.push(foldConv(m.downConv, m.downBn, `${name}.downsample_conv`, input, 'none'));
      shortcut = last();
    }
    ops.push(foldConv(m.conv1, m.bn1, `${name}.conv1`, input, m.act));
    ops.push(foldConv(m.conv2, m.bn2, `${name}.conv2`, last(), m.act));
    ops.push(foldConv(m.conv3, m.bn3, `${name}.conv3`, last(), 'none'));
    ops.push({ kind: 'add', name, output: name, inputs: [last(), shortcut], act: checkAct(m.act, name) });
  } else {
    throw new UnsupportedOpError(
      `cannot export ${what} at ${name}: module ${m.constructor.name} is not one the exporter knows ` +
        '(MBConv, ResBlock, ConvBnAct, DepthwiseSeparable)',
    );
  }
  return last();
}

/**
 * The inference form of `net` with its current weights and BN running statistics. Throws
 * UnsupportedOpError naming the op when a layer has a module the inference form does not know.
 */
export function foldNetwork(net: ChildNetwork): InferenceGraph {
  const space = net.space;
  const ops: InferenceOp[] = [];
  let x = lowerBlock(net.stem, 'stem', 'input', ops, 'the stem');
  for (const item of space.body) {
    if (item.kind === 'fixed') {
      const p = item.block.position;
      x = lowerBlock(net.fixed.get(p)!, `blocks.${p}`, x, ops, `fixed block "${item.block.kind}"`);
      continue;
    }
    const st = item.stage;
    net.layers[st.index].forEach((m, l) => {
      if (m) x = lowerBlock(m, `blocks.${st.position}.${l}`, x, ops, `op "${net.arch[st.index][l]}"`);
    });
  }
  const head = net.head;
  if (head.conv) x = lowerBlock(head.conv, 'head.conv_head', x, ops, 'the head conv');
  ops.push({ kind: 'pool', name: 'head.pool', output: 'head.pool', input: x });
  x = 'head.pool';
  if (head.features) {
    ops.push(dense(head.features, 'head.conv_features', x, space.activation));
    x = 'head.conv_features';
  }
  ops.push(dense(head.classifier, 'head.classifier', x, 'none'));
  return {
    input: 'input',
    inputShape: [space.resolution, space.resolution, space.inputChannels],
    output: 'head.classifier',
    classes: space.classes,
    ops,
  };
}
