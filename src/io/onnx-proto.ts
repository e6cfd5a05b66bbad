/**
 * The few protobuf messages of an ONNX model (onnx/onnx.proto, IR version 7+), encoded by hand:
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto (raw little-endian data),
 * ValueInfoProto with TypeProto.Tensor, OperatorSetIdProto and StringStringEntryProto. Field
 * numbers are the spec's; a small reader is here too so tests (and `cream export`) can look inside
 * a file without a protobuf library.
 */

// ---- encoding ----------------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Bytes of one message, built field by field. */
class Message {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.byteLength;
  }

  private key(field: number, wire: number): void {
    this.push(varint(field * 8 + wire));
  }

  int(field: number, v: number): this {
    this.key(field, WIRE_VARINT);
    this.push(varint(v));
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE_BYTES);
    this.push(varint(b.byteLength));
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  message(field: number, m: Message): this {
    return this.bytes(field, m.finish());
  }

  /** Repeated int64 as a packed field. */
  packedInts(field: number, values: readonly number[]): this {
    const inner = new Message();
    for (const v of values) inner.push(varint(v));
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    if (this.parts.length === 1) return this.parts[0];
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    this.parts.length = 0;
    this.parts.push(out);
    return out;
  }
}

/** Varint of a non-negative integer or a negative int64 (ten bytes, two's complement). */
function varint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf varint: ${value} is not a safe integer`);
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

// ---- ONNX messages -------------------------------------------------------------------------------

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

export type OnnxAttribute =
  | { name: string; float: number }
  | { name: string; int: number }
  | { name: string; ints: readonly number[] }
  | { name: string; string: string };

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: readonly OnnxAttribute[];
}

export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  /** float32 (ONNX_FLOAT) or int64 values given as numbers (ONNX_INT64). */
  data: Float32Array | { int64: readonly number[] };
}

export interface OnnxValueInfo {
  name: string;
  /** Element type (ONNX_FLOAT); dims are numbers or symbolic names such as 'batch'. */
  elemType: number;
  dims: readonly (number | string)[];
}

export interface OnnxModel {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: {
    name: string;
    nodes: readonly OnnxNode[];
    initializers: readonly OnnxInitializer[];
    inputs: readonly OnnxValueInfo[];
    outputs: readonly OnnxValueInfo[];
  };
  metadata: Record<string, string>;
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

function attribute(a: OnnxAttribute): Message {
  const m = new Message().string(1, a.name);
  if ('float' in a) return m.float(2, a.float).int(20, ATTR_FLOAT);
  if ('int' in a) return m.int(3, a.int).int(20, ATTR_INT);
  if ('string' in a) return m.string(4, a.string).int(20, ATTR_STRING);
  // Repeated int64 in AttributeProto is `ints = 8`, written unpacked as onnx's own writer does.
  for (const v of a.ints) m.int(8, v);
  return m.int(20, ATTR_INTS);
}

function node(n: OnnxNode): Message {
  const m = new Message();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  m.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes ?? []) m.message(5, attribute(a));
  return m;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function tensor(t: OnnxInitializer): Message {
  const m = new Message().packedInts(1, t.dims);
  if (t.data instanceof Float32Array) {
    let raw: Uint8Array;
    if (LITTLE_ENDIAN) raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
    else {
      raw = new Uint8Array(t.data.length * 4);
      const dv = new DataView(raw.buffer);
      for (let i = 0; i < t.data.length; i++) dv.setFloat32(i * 4, t.data[i], true);
    }
    return m.int(2, ONNX_FLOAT).string(8, t.name).bytes(9, raw);
  }
  const raw = new Uint8Array(t.data.int64.length * 8);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < t.data.int64.length; i++) dv.setBigInt64(i * 8, BigInt(t.data.int64[i]), true);
  return m.int(2, ONNX_INT64).string(8, t.name).bytes(9, raw);
}

function valueInfo(v: OnnxValueInfo): Message {
  const shape = new Message();
  for (const d of v.dims)
    shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, v.elemType).message(2, shape);
  return new Message().string(1, v.name).message(2, new Message().message(1, tensorType));
}

/** The bytes of an .onnx file. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const g = new Message();
  for (const n of model.graph.nodes) g.message(1, node(n));
  g.string(2, model.graph.name);
  for (const t of model.graph.initializers) g.message(5, tensor(t));
  for (const i of model.graph.inputs) g.message(11, valueInfo(i));
  for (const o of model.graph.outputs) g.message(12, valueInfo(o));
  const m = new Message().int(1, model.irVersion).string(2, model.producerName).string(3, model.producerVersion);
  if (model.docString) m.string(6, model.docString);
  m.message(7, g);
  m.message(8, new Message().string(1, '').int(2, model.opsetVersion));
  for (const [key, value] of Object.entries(model.metadata))
    m.message(14, new Message().string(1, key).string(2, value));
  return m.finish();
}

// ---- reading -------------------------------------------------------------------------------------

export interface ProtoField {
  field: number;
  wire: number;
  /** Varints and fixed-width numbers as bigint; length-delimited fields as bytes. */
  value: bigint | Uint8Array;
}

/** The top-level fields of one message, in file order. */
export function readProtoFields(bytes: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new Error('protobuf: truncated varint');
      const b = bytes[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const key = Number(readVarint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === WIRE_VARINT) out.push({ field, wire, value: readVarint() });
    else if (wire === WIRE_BYTES) {
      const n = Number(readVarint());
      if (pos + n > bytes.length) throw new Error(`protobuf: field ${field} runs past the end`);
      out.push({ field, wire, value: bytes.subarray(pos, pos + n) });
      pos += n;
    } else if (wire === WIRE_FIXED32) {
      out.push({ field, wire, value: BigInt(dv.getUint32(pos, true)) });
      pos += 4;
    } else if (wire === WIRE_FIXED64) {
      out.push({ field, wire, value: dv.getBigUint64(pos, true) });
      pos += 8;
    } else throw new Error(`protobuf: unsupported wire type ${wire} (field ${field})`);
  }
  return out;
}

const utf8Decoder = new TextDecoder();

export interface OnnxSummary {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  metadata: Record<string, string>;
  /** op_type of every node, in graph order. */
  opTypes: string[];
  initializers: { name: string; dims: number[] }[];
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
}

function str(f: ProtoField): string {
  return utf8Decoder.decode(f.value as Uint8Array);
}

function readValueInfo(bytes: Uint8Array): { name: string; dims: (number | string)[] } {
  let name = '';
  const dims: (number | string)[] = [];
  for (const f of readProtoFields(bytes)) {
    if (f.field === 1) name = str(f);
    if (f.field !== 2) continue;
    for (const t of readProtoFields(f.value as Uint8Array)) {
      if (t.field !== 1) continue;
      for (const s of readProtoFields(t.value as Uint8Array)) {
        if (s.field !== 2) continue;
        for (const d of readProtoFields(s.value as Uint8Array)) {
          if (d.field !== 1) continue;
          for (const v of readProtoFields(d.value as Uint8Array)) dims.push(v.field === 1 ? Number(v.value) : str(v));
        }
      }
    }
  }
  return { name, dims };
}

/** What an .onnx file holds, read back from its bytes (no tensor data). */
export function readOnnxSummary(bytes: Uint8Array): OnnxSummary {
  const s: OnnxSummary = {
    irVersion: 0,
    opsetVersion: 0,
    producerName: '',
    metadata: {},
    opTypes: [],
    initializers: [],
    inputs: [],
    outputs: [],
  };
  for (const f of readProtoFields(bytes)) {
    if (f.field === 1) s.irVersion = Number(f.value);
    else if (f.field === 2) s.producerName = str(f);
    else if (f.field === 8) {
      for (const o of readProtoFields(f.value as Uint8Array)) if (o.field === 2) s.opsetVersion = Number(o.value);
    } else if (f.field === 14) {
      const kv = readProtoFields(f.value as Uint8Array);
      const key = kv.find((x) => x.field === 1);
      const value = kv.find((x) => x.field === 2);
      s.metadata[key ? str(key) : ''] = value ? str(value) : '';
    } else if (f.field === 7) {
      for (const g of readProtoFields(f.value as Uint8Array)) {
        if (g.field === 1) {
          const op = readProtoFields(g.value as Uint8Array).find((x) => x.field === 4);
          s.opTypes.push(op ? str(op) : '');
        } else if (g.field === 5) {
          let name = '';
          const dims: number[] = [];
          for (const t of readProtoFields(g.value as Uint8Array)) {
            if (t.field === 8) name = str(t);
            if (t.field === 1) {
              if (t.wire === WIRE_BYTES) for (const d of readPackedVarints(t.value as Uint8Array)) dims.push(d);
              else dims.push(Number(t.value));
            }
          }
          s.initializers.push({ name, dims });
        } else if (g.field === 11) s.inputs.push(readValueInfo(g.value as Uint8Array));
        else if (g.field === 12) s.outputs.push(readValueInfo(g.value as Uint8Array));
      }
    }
  }
  return s;
}

function readPackedVarints(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let v = 0n;
  let shift = 0n;
  for (const b of bytes) {
    v |= BigInt(b & 0x7f) << shift;
    if (b & 0x80) shift += 7n;
    else {
      out.push(Number(BigInt.asIntN(64, v)));
      v = 0n;
      shift = 0n;
    }
  }
  return out;
}
