/**
 * safetensors files (the Hugging Face format, https://github.com/huggingface/safetensors): the
 * weight format of checkpoints, chosen because loading one runs no code (unlike pickle) and
 * Python reads it with `safetensors.numpy.load_file`.
 *
 * Layout: 8 bytes little-endian u64 N; N bytes of UTF-8 JSON header; then the data buffer. The
 * header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into
 * the data buffer, not the file) and may hold "__metadata__", a string -> string map.
 *
 * The writer produces exactly the bytes of the reference (Rust) implementation: header padded
 * with spaces to a multiple of 8 so every tensor starts 8-byte aligned in the file; tensors laid
 * out by dtype, widest alignment first (I64, F64, F32, I32, U8 — the reference sorts by its
 * dtype enum, descending), then by name (UTF-8 byte order); compact JSON with `__metadata__`
 * first. Metadata keys are written sorted (the reference writes them in hash order, so a file
 * with several metadata keys is equal to Python's only up to that order).
 *
 * The reader checks everything the reference checks and a little more (unknown fields), and
 * names the file and the key in every error. It only parses JSON and copies bytes.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-write.ts';

export type SafetensorsDtype = 'F32' | 'I32' | 'F64' | 'I64' | 'U8';

interface DtypeArrays {
  F32: Float32Array;
  I32: Int32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  U8: Uint8Array;
}

/** One tensor: a dtype, a shape (row-major, C order) and a typed array of matching type and length. */
export type SafetensorsTensor<D extends SafetensorsDtype = SafetensorsDtype> = {
  [K in D]: { dtype: K; shape: number[]; data: DtypeArrays[K] };
}[D];

export interface SafetensorsContents {
  /** Null-prototype record, in data-buffer order (JS lists integer-like names first). */
  tensors: Record<string, SafetensorsTensor>;
  /** The `__metadata__` map; empty when the file has none. */
  metadata: Record<string, string>;
}

/** A file that is not valid safetensors, or tensors that cannot be written as one. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

interface DtypeInfo {
  bytes: number;
  /** Position in the reference implementation's dtype enum; layout order is descending. */
  rank: number;
  array: new (buffer: ArrayBuffer) => SafetensorsTensor['data'];
  name: string;
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  U8: { bytes: 1, rank: 4, array: Uint8Array, name: 'Uint8Array' },
  I32: { bytes: 4, rank: 13, array: Int32Array, name: 'Int32Array' },
  F32: { bytes: 4, rank: 15, array: Float32Array, name: 'Float32Array' },
  F64: { bytes: 8, rank: 17, array: Float64Array, name: 'Float64Array' },
  I64: { bytes: 8, rank: 18, array: BigInt64Array, name: 'BigInt64Array' },
};

/** Valid in the format but not read by this implementation (a clearer error than "unknown"). */
const OTHER_SPEC_DTYPES = new Set(
  'BOOL F4 F6_E2M3 F6_E3M2 I8 F8_E5M2 F8_E4M3 F8_E8M0 F8_E4M3FNUZ F8_E5M2FNUZ I16 U16 F16 BF16 U32 C64 U64'.split(' '),
);

const METADATA_KEY = '__metadata__';
/** The reference implementation refuses headers above 100 MB; so do we, before allocating. */
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The file's bytes as a list of chunks (header, then each tensor's data), without concatenating. */
function encodeChunks(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Uint8Array[] {
  const names = Object.keys(tensors);
  names.forEach((name) => {
    checkTensorForWrite(name, tensors[name]);
  });
  const utf8 = (s: string) => Buffer.from(s, 'utf8');
  names.sort((a, b) => {
    const ra = DTYPES[tensors[a].dtype].rank;
    const rb = DTYPES[tensors[b].dtype].rank;
    return rb - ra || Buffer.compare(utf8(a), utf8(b));
  });

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header[METADATA_KEY] = sortedMetadata(metadata);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const bytes = littleEndianBytes(t.data, DTYPES[t.dtype].bytes);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
    chunks.push(bytes);
  }
  // Object key order is insertion order except for integer-like names; build the JSON by hand
  // so the order is exactly __metadata__ then data-buffer order.
  const parts = metadata === undefined ? names : [METADATA_KEY, ...names];
  let json = `{${parts.map((k) => `${JSON.stringify(k)}:${JSON.stringify(header[k])}`).join(',')}}`;
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = utf8(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  return [prefix, headerBytes, ...chunks];
}

/** The complete file as one buffer. */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  return Buffer.concat(encodeChunks(tensors, metadata));
}

/** Write atomically (temp file + fsync + rename): a kill mid-write never leaves a torn checkpoint. */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeChunks(tensors, metadata));
}

export function writeSafetensorsSync(
  path: string,
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomicSync(path, encodeChunks(tensors, metadata));
}

export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  return decodeSafetensors(await fsp.readFile(path), path);
}

export function readSafetensorsSync(path: string): SafetensorsContents {
  return decodeSafetensors(fs.readFileSync(path), path);
}

/**
 * Parse and validate a whole file held in memory. `source` names it in errors (a path, usually).
 * Tensor data is copied out, so the result does not keep `bytes` alive.
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<memory>'): SafetensorsContents {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  if (bytes.byteLength < 8) fail(`truncated: ${bytes.byteLength} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) fail(`header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(declared);
  if (8 + headerLength > bytes.byteLength) {
    fail(`header length ${headerLength} runs past the end of the file (${bytes.byteLength} bytes)`);
  }
  const headerBytes = bytes.subarray(8, 8 + headerLength);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header must start with "{", got ${JSON.stringify(text.slice(0, 20))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header must be a JSON object');

  const metadata: Record<string, string> = Object.create(null);
  const infos: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, value] of Object.entries(header as object)) {
    if (key === METADATA_KEY) {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        fail(`${METADATA_KEY} must be an object`);
      for (const [mk, mv] of Object.entries(value as object)) {
        if (typeof mv !== 'string') fail(`${METADATA_KEY}["${mk}"] must be a string, got ${JSON.stringify(mv)}`);
        metadata[mk] = mv as string;
      }
      continue;
    }
    const where = `tensor "${key}"`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${where}: expected an object`);
    const info = value as Record<string, unknown>;
    for (const field of Object.keys(info)) {
      if (field !== 'dtype' && field !== 'shape' && field !== 'data_offsets')
        fail(`${where}: unknown field "${field}"`);
    }
    const dtype = info.dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPES)) {
      if (typeof dtype === 'string' && OTHER_SPEC_DTYPES.has(dtype)) {
        fail(`${where}: dtype ${dtype} is not supported (supported: ${Object.keys(DTYPES).join(', ')})`);
      }
      fail(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    infos.push({ name: key, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }

  // The tensors must tile the data buffer exactly: sorted by offset, each starts where the last
  // ended, the first at 0 and the last at the end of the file. This rules out overlaps (two
  // names aliasing bytes), gaps (hidden data) and trailing bytes in one pass.
  const dataLength = bytes.byteLength - 8 - headerLength;
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous = '';
  for (const t of infos) {
    const where = `tensor "${t.name}"`;
    if (t.begin < cursor) fail(`${where}: data_offsets [${t.begin}, ${t.end}] overlap tensor "${previous}"`);
    if (t.begin > cursor)
      fail(`${where}: data_offsets [${t.begin}, ${t.end}] leave bytes ${cursor}..${t.begin} unused`);
    if (t.end > dataLength) {
      fail(
        `${where}: data_offsets [${t.begin}, ${t.end}] run past the data buffer (${dataLength} bytes; file truncated?)`,
      );
    }
    const elements = t.shape.reduce((a, d) => a * d, 1);
    const expected = elements * DTYPES[t.dtype].bytes;
    if (!Number.isSafeInteger(expected) || expected !== t.end - t.begin) {
      fail(
        `${where}: shape [${t.shape}] of ${t.dtype} needs ${expected} bytes but data_offsets span ${t.end - t.begin}`,
      );
    }
    cursor = t.end;
    previous = t.name;
  }
  if (cursor !== dataLength) fail(`tensors cover ${cursor} bytes but the data buffer holds ${dataLength}`);

  const dataStart = bytes.byteOffset + 8 + headerLength;
  const tensors: Record<string, SafetensorsTensor> = Object.create(null);
  for (const t of infos) {
    // Copy into a fresh, aligned ArrayBuffer: typed arrays cannot view unaligned offsets.
    const copy = new Uint8Array(t.end - t.begin);
    copy.set(new Uint8Array(bytes.buffer, dataStart + t.begin, t.end - t.begin));
    if (!LITTLE_ENDIAN) swapBytes(copy, DTYPES[t.dtype].bytes);
    const data = new DTYPES[t.dtype].array(copy.buffer);
    tensors[t.name] = { dtype: t.dtype, shape: [...t.shape], data } as SafetensorsTensor;
  }
  return { tensors, metadata };
}

function checkTensorForWrite(name: string, t: SafetensorsTensor): void {
  const where = `tensor "${name}"`;
  if (name === METADATA_KEY) throw new SafetensorsError(`${where}: the name is reserved for metadata`);
  if (typeof t !== 'object' || t === null) throw new SafetensorsError(`${where}: expected {dtype, shape, data}`);
  const info = DTYPES[t.dtype as SafetensorsDtype] as DtypeInfo | undefined;
  if (!Object.hasOwn(DTYPES, t.dtype) || !info) {
    throw new SafetensorsError(
      `${where}: unsupported dtype ${JSON.stringify(t.dtype)} (use ${Object.keys(DTYPES).join(', ')})`,
    );
  }
  if (!(t.data instanceof info.array)) {
    throw new SafetensorsError(`${where}: dtype ${t.dtype} needs a ${info.name}, got ${t.data?.constructor?.name}`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(
      `${where}: shape must be a list of non-negative integers, got ${JSON.stringify(t.shape)}`,
    );
  }
  const elements = t.shape.reduce((a, d) => a * d, 1);
  if (elements !== t.data.length) {
    throw new SafetensorsError(`${where}: shape [${t.shape}] holds ${elements} values but data has ${t.data.length}`);
  }
}

function sortedMetadata(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(metadata).sort()) {
    const value = metadata[key];
    if (typeof value !== 'string') {
      throw new SafetensorsError(`metadata["${key}"]: values must be strings, got ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  return out;
}

/** The array's bytes in little-endian order: a view on little-endian hosts, a swapped copy otherwise. */
function littleEndianBytes(data: SafetensorsTensor['data'], width: number): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || width === 1) return view;
  const copy = view.slice();
  swapBytes(copy, width);
  return copy;
}

function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}
