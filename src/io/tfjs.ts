/**
 * TF.js layers-model export (model.json + binary weight shards, the format `tf.loadLayersModel`
 * reads) of a child network's inference form. Built only from stock layers, so no custom layer
 * has to be registered in the browser:
 *
 * - conv + folded BN: Conv2D / DepthwiseConv2D with bias and the activation inline ('swish',
 *   'relu', 'relu6' or 'linear'); stride-2 and other non-'same' cases get an explicit
 *   ZeroPadding2D and 'valid' padding, because TF's 'same' pads less on the top/left than ours;
 * - squeeze-excite: GlobalAveragePooling2D, Dense + relu, Dense, then the gate relu6(x + 3) / 6
 *   written as Rescaling(1/6, offset 0.5) and ReLU(max_value 1) (tfjs's own 'hardSigmoid' is
 *   0.2x + 0.5, a different function), Reshape [1, 1, C], Multiply;
 * - residuals: Add; head: GlobalAveragePooling2D and Dense layers.
 *
 * Input: float32 [batch, H, W, C] (NHWC, as our engine). Output: logits [batch, classes].
 * The metadata is in model.json's `userDefinedMetadata.cream` (`model.getUserDefinedMetadata()`).
 */

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ConvOp, InferenceGraph, InferenceOp } from '../models/inference-graph.ts';
import type { Activation } from '../nn/index.ts';
import { type ExportMetadata, PRODUCER, PRODUCER_VERSION } from './export-metadata.ts';

/** tfjs-converter's default shard size. */
export const SHARD_BYTES = 4 * 1024 * 1024;

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: { class_name: 'Model'; config: Record<string, unknown>; keras_version: string; backend: string };
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
  userDefinedMetadata: { cream: ExportMetadata };
}

export interface TfjsExport {
  modelJson: TfjsModelJson;
  /** Shard file name -> bytes, in manifest order. */
  shards: [string, Uint8Array][];
}

const KERAS_ACT: Record<Exclude<Activation, 'hswish'>, string> = {
  none: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  swish: 'swish',
};

class LayersBuilder {
  readonly layers: KerasLayer[] = [];
  readonly weights: { spec: TfjsWeightSpec; data: Float32Array }[] = [];

  layer(
    className: string,
    name: string,
    config: Record<string, unknown>,
    inputs: string[],
    weights: [string, number[], Float32Array][] = [],
  ): string {
    this.layers.push({
      class_name: className,
      name,
      config: { name, trainable: true, dtype: 'float32', ...config },
      inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [],
    });
    for (const [w, shape, data] of weights)
      this.weights.push({ spec: { name: `${name}/${w}`, shape, dtype: 'float32' }, data });
    return name;
  }

  /** relu6(x + 3) / 6 as Rescaling(1/6, 0.5) then ReLU clipped at 1. */
  hardSigmoid(x: string, name: string): string {
    const affine = this.layer('Rescaling', `${name}.affine`, { scale: 1 / 6, offset: 0.5 }, [x]);
    return this.layer('ReLU', name, { max_value: 1 }, [affine]);
  }

  /** act(x) as separate layers named `name` (x itself for 'none'). */
  activation(act: Activation, x: string, name: string): string {
    if (act === 'none') return x;
    if (act === 'hswish') return this.layer('Multiply', name, {}, [x, this.hardSigmoid(x, `${name}.hard_sigmoid`)]);
    return this.layer('Activation', name, { activation: KERAS_ACT[act] }, [x]);
  }
}

function lowerConv(b: LayersBuilder, op: ConvOp, x: string): string {
  const { kernel: k, stride: s, padding: p } = op;
  let padding = 'valid';
  let input = x;
  if (s === 1 && 2 * p === k - 1) padding = k === 1 ? 'valid' : 'same';
  else if (p > 0)
    input = b.layer(
      'ZeroPadding2D',
      `${op.name}.pad`,
      {
        padding: [
          [p, p],
          [p, p],
        ],
        data_format: 'channels_last',
      },
      [x],
    );
  const inline = op.act !== 'hswish';
  const name = inline ? op.name : `${op.name}.conv`;
  const common = {
    kernel_size: [k, k],
    strides: [s, s],
    padding,
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    activation: inline ? KERAS_ACT[op.act as Exclude<Activation, 'hswish'>] : 'linear',
    use_bias: true,
  };
  const y = op.depthwise
    ? b.layer(
        'DepthwiseConv2D',
        name,
        { ...common, depth_multiplier: 1 },
        [input],
        [
          ['depthwise_kernel', [k, k, op.outChannels, 1], op.weight],
          ['bias', [op.outChannels], op.bias],
        ],
      )
    : b.layer(
        'Conv2D',
        name,
        { ...common, filters: op.outChannels },
        [input],
        [
          ['kernel', [k, k, op.inChannels, op.outChannels], op.weight],
          ['bias', [op.outChannels], op.bias],
        ],
      );
  return inline ? y : b.activation('hswish', y, op.name);
}

function lowerOp(b: LayersBuilder, op: InferenceOp, value: (v: string) => string): string {
  switch (op.kind) {
    case 'conv':
      return lowerConv(b, op, value(op.input));
    case 'se': {
      const x = value(op.input);
      const n = op.name;
      const pooled = b.layer('GlobalAveragePooling2D', `${n}.pool`, { data_format: 'channels_last' }, [x]);
      const reduce = b.layer(
        'Dense',
        `${n}.conv_reduce`,
        { units: op.reduced, activation: 'relu', use_bias: true },
        [pooled],
        [
          ['kernel', [op.channels, op.reduced], op.reduceWeight],
          ['bias', [op.reduced], op.reduceBias],
        ],
      );
      const expand = b.layer(
        'Dense',
        `${n}.conv_expand`,
        { units: op.channels, activation: 'linear', use_bias: true },
        [reduce],
        [
          ['kernel', [op.reduced, op.channels], op.expandWeight],
          ['bias', [op.channels], op.expandBias],
        ],
      );
      const gate = b.hardSigmoid(expand, `${n}.gate`);
      const gate4 = b.layer('Reshape', `${n}.gate_nhwc`, { target_shape: [1, 1, op.channels] }, [gate]);
      return b.layer('Multiply', n, {}, [x, gate4]);
    }
    case 'add': {
      const name = op.act === 'none' ? op.name : `${op.name}.sum`;
      const y = b.layer('Add', name, {}, [value(op.inputs[0]), value(op.inputs[1])]);
      return b.activation(op.act, y, op.name);
    }
    case 'pool':
      return b.layer('GlobalAveragePooling2D', op.name, { data_format: 'channels_last' }, [value(op.input)]);
    case 'dense': {
      const inline = op.act !== 'hswish';
      const name = inline ? op.name : `${op.name}.dense`;
      const weights: [string, number[], Float32Array][] = [['kernel', [op.inFeatures, op.outFeatures], op.weight]];
      if (op.bias) weights.push(['bias', [op.outFeatures], op.bias]);
      const act = inline ? KERAS_ACT[op.act as Exclude<Activation, 'hswish'>] : 'linear';
      const y = b.layer(
        'Dense',
        name,
        { units: op.outFeatures, activation: act, use_bias: op.bias !== null },
        [value(op.input)],
        weights,
      );
      return inline ? y : b.activation('hswish', y, op.name);
    }
  }
}

/** model.json and the weight shards of an inference graph. */
export function tfjsModel(graph: InferenceGraph, meta: ExportMetadata, shardBytes = SHARD_BYTES): TfjsExport {
  const [h, w, c] = graph.inputShape;
  const b = new LayersBuilder();
  b.layer('InputLayer', 'input', { batch_input_shape: [null, h, w, c], sparse: false }, []);
  const names = new Map<string, string>([[graph.input, 'input']]);
  const value = (v: string): string => {
    const n = names.get(v);
    if (!n) throw new Error(`tfjs export: value ${v} is read before it is written`);
    return n;
  };
  for (const op of graph.ops) names.set(op.output, lowerOp(b, op, value));
  const output = value(graph.output);

  // All weights in one group, cut into shards of at most shardBytes (a weight may span two).
  const total = b.weights.reduce((n, x) => n + x.data.byteLength, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const { data } of b.weights) {
    all.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), o);
    o += data.byteLength;
  }
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const shards: [string, Uint8Array][] = [];
  for (let i = 0; i < count; i++) {
    shards.push([
      `group1-shard${i + 1}of${count}.bin`,
      all.subarray(i * shardBytes, Math.min(total, (i + 1) * shardBytes)),
    ]);
  }
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: `${PRODUCER} ${PRODUCER_VERSION}`,
      convertedBy: null,
      modelTopology: {
        class_name: 'Model',
        config: {
          name: 'cream_child',
          layers: b.layers,
          input_layers: [['input', 0, 0]],
          output_layers: [[output, 0, 0]],
        },
        keras_version: 'tfjs-layers 4.22.0',
        backend: 'tensor_flow.js',
      },
      weightsManifest: [{ paths: shards.map(([n]) => n), weights: b.weights.map((x) => x.spec) }],
      userDefinedMetadata: { cream: { ...meta, inputLayout: 'NHWC' } },
    },
    shards,
  };
}

/**
 * Writes model.json and its shards into `dir`. The files are staged in a sibling temporary folder
 * first: a new `dir` appears whole (one rename); into an existing folder the shards move first and
 * model.json last, each by an atomic rename, and shards of an earlier export that the new
 * model.json does not list are removed. A failure leaves no partial export behind.
 */
export function writeTfjs(
  dir: string,
  graph: InferenceGraph,
  meta: ExportMetadata,
): { files: string[]; bytes: number } {
  const { modelJson, shards } = tfjsModel(graph, meta);
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new Error(`tfjs export: ${dir} exists and is not a folder`);
  mkdirSync(dirname(dir), { recursive: true });
  const stage = join(dirname(dir), `.${basename(dir)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const files = [...shards.map(([n]) => n), 'model.json'];
  let bytes = 0;
  try {
    mkdirSync(stage);
    for (const [name, data] of shards) {
      writeFileSync(join(stage, name), data);
      bytes += data.byteLength;
    }
    const json = `${JSON.stringify(modelJson)}\n`;
    writeFileSync(join(stage, 'model.json'), json);
    bytes += Buffer.byteLength(json);
    if (!existsSync(dir)) {
      renameSync(stage, dir);
    } else {
      for (const f of files) renameSync(join(stage, f), join(dir, f));
      rmSync(stage, { recursive: true, force: true });
      for (const f of readdirSync(dir)) {
        if (/^group\d+-shard\d+of\d+\.bin$/.test(f) && !files.includes(f)) rmSync(join(dir, f), { force: true });
      }
    }
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    throw e;
  }
  return { files, bytes };
}
