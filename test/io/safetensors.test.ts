import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { TS_FIXTURE_METADATA, tsFixtureTensors } from '../../scripts/fixtures/ts-safetensors-contents.ts';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsSync,
  type SafetensorsTensor,
  writeSafetensors,
  writeSafetensorsSync,
} from '../../src/io/safetensors.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'io');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cream-safetensors-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A file built by hand: 8-byte length (declared, default the true one), header text, data bytes. */
function raw(header: string | Uint8Array | object, data: number[] | Uint8Array = [], declared?: bigint): Uint8Array {
  const text =
    header instanceof Uint8Array
      ? Buffer.from(header)
      : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declared ?? BigInt(text.length));
  return Buffer.concat([prefix, text, Buffer.from(data)]);
}

const f32 = (name: string, begin: number, end: number, shape = [(end - begin) / 4]) => ({
  [name]: { dtype: 'F32', shape, data_offsets: [begin, end] },
});

describe('safetensors round trip', () => {
  test('every dtype, views, odd names and metadata survive encode/decode exactly', () => {
    const backing = new Float32Array([9, 1.5, -2.25, 3, 9]);
    const tensors: Record<string, SafetensorsTensor> = {
      'layer.weight': { dtype: 'F32', shape: [3], data: backing.subarray(1, 4) },
      'b\u00e9ta/\u6f22': { dtype: 'F64', shape: [2, 1], data: new Float64Array([Math.E, -0]) },
      '0': { dtype: 'I32', shape: [1, 2], data: new Int32Array([-7, 2 ** 31 - 1]) },
      __proto__x: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
      u: { dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 2, 3, 255]) },
      scalar: { dtype: 'F32', shape: [], data: new Float32Array([Number.NaN]) },
      empty: { dtype: 'I64', shape: [0], data: new BigInt64Array(0) },
    };
    const bytes = encodeSafetensors(tensors, { b: '2', a: 'one', '': '' });
    assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) % 8, 0, 'header padded to 8');
    const back = decodeSafetensors(bytes);
    assert.deepEqual({ ...back.metadata }, { a: 'one', b: '2', '': '' });
    assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = back.tensors[name];
      assert.equal(got.dtype, t.dtype, name);
      assert.deepEqual(got.shape, t.shape, name);
      assert.equal(got.data.constructor, t.data.constructor, name);
      assert.deepEqual(
        Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength),
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        `${name}: same bits`,
      );
    }
    // Encoding is deterministic: same tensors, same bytes, whatever the insertion order.
    const reversed = Object.fromEntries(Object.entries(tensors).reverse());
    assert.deepEqual(encodeSafetensors(reversed, { '': '', a: 'one', b: '2' }), bytes);
  });

  test('no metadata, no tensors: the minimal file', () => {
    const bytes = encodeSafetensors({});
    assert.equal(Buffer.from(bytes).toString('latin1'), '\x08\0\0\0\0\0\0\0{}      ');
    const back = decodeSafetensors(bytes);
    assert.deepEqual([Object.keys(back.tensors), Object.keys(back.metadata)], [[], []]);
  });

  test('a tensor named __proto__ is an own key and pollutes nothing', () => {
    const bytes = raw({ ['__proto__']: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, [42]);
    const { tensors } = decodeSafetensors(bytes);
    assert.ok(Object.hasOwn(tensors, '__proto__'));
    const own = Object.getOwnPropertyDescriptor(tensors, '__proto__')?.value as SafetensorsTensor;
    assert.deepEqual([...own.data], [42]);
    assert.equal(({} as { dtype?: string }).dtype, undefined);
  });

  test('files: write (atomically) then read, async and sync', async () => {
    const file = path.join(tmp, 'ckpt.safetensors');
    const tensors = tsFixtureTensors();
    await writeSafetensors(file, tensors, { epoch: '3' });
    const a = await readSafetensors(file);
    writeSafetensorsSync(file, tensors, { epoch: '4' });
    const b = readSafetensorsSync(file);
    assert.equal(a.metadata.epoch, '3');
    assert.equal(b.metadata.epoch, '4');
    assert.deepEqual(a.tensors, b.tensors);
    assert.deepEqual([...a.tensors.step.data], [2n ** 60n + 123n]);
    assert.deepEqual(fs.readdirSync(tmp), ['ckpt.safetensors'], 'no temp files left behind');
  });

  test('writer rejects tensors it cannot write, naming them', () => {
    const ok = new Float32Array(4);
    assert.throws(
      () => encodeSafetensors({ w: { dtype: 'F32', shape: [3], data: ok } }),
      /tensor "w": shape \[3\] holds 3 values but data has 4/,
    );
    assert.throws(
      () => encodeSafetensors({ w: { dtype: 'F64', shape: [4], data: ok } as unknown as SafetensorsTensor }),
      /tensor "w": dtype F64 needs a Float64Array, got Float32Array/,
    );
    assert.throws(
      () => encodeSafetensors({ w: { dtype: 'F16', shape: [4], data: ok } as unknown as SafetensorsTensor }),
      /tensor "w": unsupported dtype "F16"/,
    );
    assert.throws(() => encodeSafetensors({ w: { dtype: 'F32', shape: [-4], data: ok } }), /tensor "w": shape must be/);
    assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [4], data: ok } }), /reserved/);
    assert.throws(
      () => encodeSafetensors({}, { n: 3 as unknown as string }),
      /metadata\["n"\]: values must be strings/,
    );
  });
});

describe('safetensors reader rejects corrupt files, naming the file and the key', () => {
  const good = raw({ ...f32('a', 0, 8), ...f32('b', 8, 12) }, new Uint8Array(12));
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than the length field', good.subarray(0, 5), /truncated: 5 bytes/],
    [
      'header length beyond the file',
      raw('{}', [], 4096n),
      /header length 4096 runs past the end of the file \(10 bytes\)/,
    ],
    ['header length absurd', raw('{}', [], 2n ** 63n), /exceeds the 100000000-byte limit/],
    ['header not UTF-8', raw(Buffer.from([0x7b, 0xff, 0x7d])), /header is not valid UTF-8/],
    ['header not starting with {', raw(' {}'), /header must start with "\{"/],
    ['header not JSON', raw('{"a":'), /header is not valid JSON/],
    [
      'unknown dtype',
      raw({ a: { dtype: 'Q32', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
      /tensor "a": unknown dtype "Q32"/,
    ],
    [
      'spec dtype we do not read',
      raw({ h: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
      /tensor "h": dtype BF16 is not supported \(supported: U8, I32, F32, F64, I64\)/,
    ],
    [
      'bad shape',
      raw({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
      /tensor "a": shape must be/,
    ],
    [
      'offsets not a pair',
      raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, [0, 0, 0, 0]),
      /tensor "a": data_offsets must be/,
    ],
    [
      'offsets reversed',
      raw({ a: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }),
      /tensor "a": data_offsets \[4, 0\] end before/,
    ],
    [
      'overlapping tensors',
      raw({ ...f32('a', 0, 8), ...f32('b', 4, 12) }, new Uint8Array(12)),
      /tensor "b": .* overlap tensor "a"/,
    ],
    [
      'gap between tensors',
      raw({ ...f32('a', 0, 4), ...f32('b', 8, 12) }, new Uint8Array(12)),
      /tensor "b": .* leave bytes 4..8 unused/,
    ],
    ['first tensor not at 0', raw(f32('a', 4, 8), new Uint8Array(8)), /tensor "a": .* leave bytes 0..4 unused/],
    [
      'data truncated',
      good.subarray(0, good.length - 3),
      /tensor "b": data_offsets \[8, 12\] run past the data buffer \(9 bytes/,
    ],
    ['trailing bytes', raw(f32('a', 0, 4), new Uint8Array(6)), /tensors cover 4 bytes but the data buffer holds 6/],
    [
      'size mismatch',
      raw(f32('a', 0, 8, [3]), new Uint8Array(8)),
      /tensor "a": shape \[3\] of F32 needs 12 bytes but data_offsets span 8/,
    ],
    [
      'metadata value not a string',
      raw({ __metadata__: { epoch: 3 } }),
      /__metadata__\["epoch"\] must be a string, got 3/,
    ],
    ['metadata not an object', raw({ __metadata__: 'x' }), /__metadata__ must be an object/],
    ['tensor info not an object', raw({ a: [1, 2] }), /tensor "a": expected an object/],
    [
      'unknown tensor field',
      raw({ a: { dtype: 'U8', shape: [0], data_offsets: [0, 0], code: 'x' } }),
      /tensor "a": unknown field "code"/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    test(what, () => {
      assert.throws(
        () => decodeSafetensors(bytes, 'bad.safetensors'),
        (err: Error) =>
          err.name === 'SafetensorsError' && /^bad\.safetensors: /.test(err.message) && message.test(err.message),
      );
    });
  }

  test('the good file of those cases reads', () => {
    assert.deepEqual(Object.keys(decodeSafetensors(good).tensors), ['a', 'b']);
  });

  test('reading a file names its path', () => {
    const file = path.join(tmp, 'trunc.safetensors');
    fs.writeFileSync(file, good.subarray(0, 20));
    assert.throws(() => readSafetensorsSync(file), new RegExp(`^SafetensorsError: ${file}: header length`));
  });
});

describe('safetensors agrees with the Python package', () => {
  // Fixtures made by scripts/fixtures/safetensors_fixture.py (safetensors 0.8.0, numpy 2.4.6).
  test('reads the file written by safetensors.numpy.save_file with exact values', async () => {
    const { tensors, metadata } = await readSafetensors(path.join(FIXTURES, 'from-python.safetensors'));
    assert.deepEqual({ ...metadata }, { producer: 'safetensors.numpy' });
    const expect = (name: string, dtype: string, shape: number[], values: (number | bigint)[]) => {
      const t = tensors[name];
      assert.ok(t, `missing ${name}`);
      assert.equal(t.dtype, dtype, name);
      assert.deepEqual(t.shape, shape, name);
      assert.deepEqual([...t.data], values, name);
    };
    expect(
      'features.0.weight',
      'F32',
      [2, 3, 4],
      Array.from({ length: 24 }, (_, i) => i / 8 - 1),
    );
    expect('features.0.bias', 'F32', [3], [0.1, -0.2, 0.3].map(Math.fround));
    expect('classifier.weight', 'F64', [2, 2], [1e-310, -1.5, Math.PI, 2 ** -30]);
    expect('num_batches_tracked', 'I64', [], [-(2n ** 62n) - 5n]);
    expect('labels', 'I32', [3], [7, -3, 2 ** 31 - 1]);
    expect('pixels', 'U8', [3, 2], [250, 251, 252, 253, 254, 255]);
    expect('nothing', 'F64', [3, 0], []);
    assert.equal(Object.keys(tensors).length, 7);
  });

  test('our writer still produces the committed from-ts file byte for byte (Python checked that file)', () => {
    const committed = fs.readFileSync(path.join(FIXTURES, 'from-ts.safetensors'));
    assert.deepEqual(Buffer.from(encodeSafetensors(tsFixtureTensors(), TS_FIXTURE_METADATA)), committed);
  });
});
