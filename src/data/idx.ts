// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a big-endian
// header (two zero bytes, a type code, the number of dimensions, then one uint32 per dimension)
// followed by the raw values. Only unsigned bytes in 1-D (labels, magic 0x801) and 3-D (images,
// magic 0x803) are accepted: those are the only kinds these datasets ship, and anything else is
// more likely a wrong file than a feature we are missing.

import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DatasetError } from './errors.ts';

export const IDX_LABELS_MAGIC = 0x801;
export const IDX_IMAGES_MAGIC = 0x803;

/** One decoded IDX file. `data` lives in a SharedArrayBuffer so loader workers can read it without a copy. */
export interface IdxArray {
  path: string;
  dims: number[];
  data: Uint8Array;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(3, '0')}`;
}

/** Reads and checks an IDX file, gunzipping it first when it starts with the gzip signature. */
export function readIdx(path: string, expectedMagic?: number): IdxArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DatasetError(path, `cannot read IDX file ${path}: ${(err as Error).message}`);
  }
  return parseIdx(bytes, path, expectedMagic);
}

/** Parses IDX bytes (gzipped or not); `path` is only used in error messages. */
export function parseIdx(bytes: Uint8Array, path: string, expectedMagic?: number): IdxArray {
  let raw = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes);
    } catch (err) {
      throw new DatasetError(path, `${path}: corrupt or truncated gzip data (${(err as Error).message})`);
    }
  }
  if (raw.length < 4) throw new DatasetError(path, `${path}: too short for an IDX header (${raw.length} bytes)`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0);
  if (magic !== IDX_LABELS_MAGIC && magic !== IDX_IMAGES_MAGIC) {
    throw new DatasetError(
      path,
      `${path}: not an IDX label or image file (magic ${hex(magic)}, expected ${hex(IDX_LABELS_MAGIC)} or ${hex(IDX_IMAGES_MAGIC)})`,
    );
  }
  if (expectedMagic !== undefined && magic !== expectedMagic) {
    const what = expectedMagic === IDX_IMAGES_MAGIC ? 'images' : 'labels';
    throw new DatasetError(
      path,
      `${path}: expected an IDX ${what} file (magic ${hex(expectedMagic)}), found ${hex(magic)}`,
    );
  }
  const ndim = magic & 0xff;
  const headerBytes = 4 + 4 * ndim;
  if (raw.length < headerBytes) {
    throw new DatasetError(path, `${path}: truncated IDX header (${raw.length} bytes, header needs ${headerBytes})`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i));
  const expectedBytes = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (raw.length !== expectedBytes) {
    const what = raw.length < expectedBytes ? 'truncated' : 'has trailing bytes';
    throw new DatasetError(
      path,
      `${path}: IDX file ${what}: dimensions [${dims.join(', ')}] need ${expectedBytes} bytes, file has ${raw.length}`,
    );
  }
  const data = new Uint8Array(new SharedArrayBuffer(expectedBytes - headerBytes));
  data.set(raw.subarray(headerBytes));
  return { path, dims, data };
}

/** Encodes unsigned bytes as IDX (used by the fixture script and by tests). */
export function encodeIdx(dims: number[], data: Uint8Array, gzip = false): Buffer {
  if (dims.length !== 1 && dims.length !== 3) throw new RangeError(`IDX dims must be 1-D or 3-D, got [${dims}]`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new RangeError(`IDX data has ${data.length} values, dims [${dims}] need ${count}`);
  const out = Buffer.alloc(4 + 4 * dims.length + count);
  out.writeUInt32BE(dims.length === 1 ? IDX_LABELS_MAGIC : IDX_IMAGES_MAGIC, 0);
  dims.forEach((d, i) => {
    out.writeUInt32BE(d, 4 + 4 * i);
  });
  out.set(data, 4 + 4 * dims.length);
  return gzip ? gzipSync(out) : out;
}
