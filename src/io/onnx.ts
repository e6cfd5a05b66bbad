/**
 * ONNX export (opset 13, IR version 7) of a child network's inference form: convolutions with BN
 * folded in (Conv with bias), Sigmoid*x for swish, Clip for relu6, HardSigmoid(alpha 1/6, beta
 * 0.5) = relu6(x + 3) / 6 for the squeeze-excite gate, GlobalAveragePool, Flatten, Gemm.
 *
 * Input `input`: float32 [batch, C, H, W] (NCHW, the ONNX convention) by default, or
 * [batch, H, W, C] with `layout: 'NHWC'` (a Transpose is then the first node). Output `logits`:
 * [batch, classes]. The batch dimension is symbolic ('batch').
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConvOp, InferenceGraph, InferenceOp } from '../models/inference-graph.ts';
import type { Activation } from '../nn/index.ts';
import { writeFileAtomicSync } from './atomic-write.ts';
import { type ExportMetadata, metadataProps, PRODUCER, PRODUCER_VERSION } from './export-metadata.ts';
import {
  encodeOnnxModel,
  ONNX_FLOAT,
  type OnnxAttribute,
  type OnnxInitializer,
  type OnnxModel,
  type OnnxNode,
} from './onnx-proto.ts';

export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 7;

export interface OnnxExportOptions {
  /** Input layout (default 'NCHW'). */
  layout?: 'NCHW' | 'NHWC';
}

/** HWIO [k, k, in, out] -> OIHW; depthwise [k, k, C] -> [C, 1, k, k]. */
function convWeightOihw(op: ConvOp): { data: Float32Array; dims: number[] } {
  const k = op.kernel;
  const cout = op.outChannels;
  const cin = op.depthwise ? 1 : op.inChannels;
  const out = new Float32Array(op.weight.length);
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * k + y) * k + x] = op.weight[((y * k + x) * cin + i) * cout + o];
  return { data: out, dims: [cout, cin, k, k] };
}

/** [in, out] -> [out, in, 1, 1] (a 1x1 conv on the pooled [N, C, 1, 1] tensor). */
function denseAsConv(w: Float32Array, inF: number, outF: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) out[o * inF + i] = w[i * outF + o];
  return out;
}

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly constants = new Set<string>();

  /** One node; it is named after its output, which is unique (every value is written once). */
  add(opType: string, inputs: string[], output: string, attributes?: OnnxAttribute[]): string {
    this.nodes.push({ opType, name: output, inputs, outputs: [output], attributes });
    return output;
  }

  weight(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, data });
    return name;
  }

  scalar(name: string, value: number): string {
    if (!this.constants.has(name)) {
      this.constants.add(name);
      this.initializers.push({ name, dims: [], data: Float32Array.of(value) });
    }
    return name;
  }

  /** act(x) under the name `out`; returns `x` itself for 'none'. */
  activation(act: Activation, x: string, out: string): string {
    switch (act) {
      case 'none':
        return x;
      case 'relu':
        return this.add('Relu', [x], out);
      case 'relu6':
        return this.add('Clip', [x, this.scalar('const.zero', 0), this.scalar('const.six', 6)], out);
      case 'swish':
        return this.add('Mul', [x, this.add('Sigmoid', [x], `${out}.sigmoid`)], out);
      case 'hswish':
        return this.add('Mul', [x, this.hardSigmoid(x, `${out}.hard_sigmoid`)], out);
    }
  }

  /** relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1). */
  hardSigmoid(x: string, out: string): string {
    return this.add('HardSigmoid', [x], out, [
      { name: 'alpha', float: 1 / 6 },
      { name: 'beta', float: 0.5 },
    ]);
  }
}

function lowerOp(b: GraphBuilder, op: InferenceOp, value: (v: string) => string, out: string): string {
  switch (op.kind) {
    case 'conv': {
      const { data, dims } = convWeightOihw(op);
      const p = op.padding;
      const y = b.add(
        'Conv',
        [
          value(op.input),
          b.weight(`${op.name}.weight`, dims, data),
          b.weight(`${op.name}.bias`, [op.outChannels], op.bias),
        ],
        op.act === 'none' ? out : `${op.name}.conv`,
        [
          { name: 'kernel_shape', ints: [op.kernel, op.kernel] },
          { name: 'strides', ints: [op.stride, op.stride] },
          { name: 'pads', ints: [p, p, p, p] },
          { name: 'dilations', ints: [1, 1] },
          { name: 'group', int: op.depthwise ? op.outChannels : 1 },
        ],
      );
      return b.activation(op.act, y, out);
    }
    case 'se': {
      const x = value(op.input);
      const n = op.name;
      const pooled = b.add('GlobalAveragePool', [x], `${n}.pool`);
      const reduce = b.add(
        'Conv',
        [
          pooled,
          b.weight(
            `${n}.conv_reduce.weight`,
            [op.reduced, op.channels, 1, 1],
            denseAsConv(op.reduceWeight, op.channels, op.reduced),
          ),
          b.weight(`${n}.conv_reduce.bias`, [op.reduced], op.reduceBias),
        ],
        `${n}.conv_reduce`,
      );
      const relu = b.add('Relu', [reduce], `${n}.relu`);
      const expand = b.add(
        'Conv',
        [
          relu,
          b.weight(
            `${n}.conv_expand.weight`,
            [op.channels, op.reduced, 1, 1],
            denseAsConv(op.expandWeight, op.reduced, op.channels),
          ),
          b.weight(`${n}.conv_expand.bias`, [op.channels], op.expandBias),
        ],
        `${n}.conv_expand`,
      );
      return b.add('Mul', [x, b.hardSigmoid(expand, `${n}.gate`)], out);
    }
    case 'add': {
      const y = b.add('Add', [value(op.inputs[0]), value(op.inputs[1])], op.act === 'none' ? out : `${op.name}.sum`);
      return b.activation(op.act, y, out);
    }
    case 'pool': {
      const pooled = b.add('GlobalAveragePool', [value(op.input)], `${op.name}.nchw`);
      return b.add('Flatten', [pooled], out, [{ name: 'axis', int: 1 }]);
    }
    case 'dense': {
      const inputs = [value(op.input), b.weight(`${op.name}.weight`, [op.inFeatures, op.outFeatures], op.weight)];
      if (op.bias) inputs.push(b.weight(`${op.name}.bias`, [op.outFeatures], op.bias));
      const y = b.add('Gemm', inputs, op.act === 'none' ? out : `${op.name}.gemm`);
      return b.activation(op.act, y, out);
    }
  }
}

/** The ONNX model of an inference graph, as a message ready to encode. */
export function onnxModel(graph: InferenceGraph, meta: ExportMetadata, opts: OnnxExportOptions = {}): OnnxModel {
  const layout = opts.layout ?? 'NCHW';
  const [h, w, c] = graph.inputShape;
  const b = new GraphBuilder();
  let input = 'input';
  if (layout === 'NHWC') input = b.add('Transpose', ['input'], 'input.nchw', [{ name: 'perm', ints: [0, 3, 1, 2] }]);
  const names = new Map<string, string>([[graph.input, input]]);
  const value = (v: string): string => {
    const n = names.get(v);
    if (!n) throw new Error(`onnx export: value ${v} is read before it is written`);
    return n;
  };
  for (const op of graph.ops) {
    const out = op.output === graph.output ? 'logits' : op.output;
    names.set(op.output, lowerOp(b, op, value, out));
  }
  if (value(graph.output) !== 'logits') throw new Error('onnx export: the graph output is not the last op');
  return {
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: PRODUCER,
    producerVersion: PRODUCER_VERSION,
    docString: `cream-ts child network ${JSON.stringify(meta.arch)} (space ${meta.space}); input ${layout}`,
    graph: {
      name: 'cream_child',
      nodes: b.nodes,
      initializers: b.initializers,
      inputs: [
        { name: 'input', elemType: ONNX_FLOAT, dims: layout === 'NCHW' ? ['batch', c, h, w] : ['batch', h, w, c] },
      ],
      outputs: [{ name: 'logits', elemType: ONNX_FLOAT, dims: ['batch', graph.classes] }],
    },
    metadata: metadataProps({ ...meta, inputLayout: layout }),
  };
}

export function encodeOnnx(graph: InferenceGraph, meta: ExportMetadata, opts: OnnxExportOptions = {}): Uint8Array {
  return encodeOnnxModel(onnxModel(graph, meta, opts));
}

/** Writes the .onnx file atomically (a failed export leaves no file, or the previous one). */
export function writeOnnx(
  path: string,
  graph: InferenceGraph,
  meta: ExportMetadata,
  opts: OnnxExportOptions = {},
): number {
  const bytes = encodeOnnx(graph, meta, opts);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomicSync(path, bytes);
  return bytes.byteLength;
}
