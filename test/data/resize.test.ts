import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertChannels, resizeDataset } from '../../src/data/dataset.ts';
import { resizeBilinear } from '../../src/data/resize.ts';
import { syntheticDataset } from './helpers.ts';

function ramp(h: number, w: number): Uint8Array {
  return Uint8Array.from({ length: h * w }, (_, i) => (i * 37) % 256);
}

function resize(src: Uint8Array, h: number, w: number, oh: number, ow: number): number[] {
  const dst = new Uint8Array(oh * ow);
  resizeBilinear(src, h, w, 1, dst, oh, ow);
  return Array.from(dst);
}

function assertClose(got: number[], expected: number[], tolerance: number): void {
  assert.equal(got.length, expected.length);
  got.forEach((v, i) => {
    assert.ok(Math.abs(v - expected[i]) <= tolerance, `[${i}] ${v} vs ${expected[i]}`);
  });
}

// Expected values from PIL 9.4: Image.fromarray(ramp).resize((ow, oh), Image.BILINEAR). PIL works
// in fixed point, so values may differ by one grey level.
test('downscaling matches PIL bilinear (antialiased) within one level', () => {
  assertClose(resize(ramp(6, 5), 6, 5, 3, 2), [103, 90, 117, 129, 128, 93], 1);
  assertClose(resize(ramp(20, 16), 20, 16, 4, 3), [127, 125, 126, 130, 128, 126, 125, 130, 128, 126, 126, 127], 1);
});

test('upscaling matches PIL bilinear within one level', () => {
  const expected = [
    0, 26, 56, 85, 111, 21, 47, 77, 95, 96, 85, 111, 141, 126, 49, 148, 174, 204, 156, 3, 102, 128, 158, 143, 66, 55,
    81, 111, 129, 130, 40, 66, 96, 125, 151,
  ];
  assertClose(resize(ramp(3, 4), 3, 4, 7, 5), expected, 1);
});

test('same size copies; constant images stay constant', () => {
  const src = ramp(5, 5);
  assert.deepEqual(resize(src, 5, 5, 5, 5), Array.from(src));
  assert.deepEqual(resize(new Uint8Array(30).fill(77), 5, 6, 13, 2), new Array(26).fill(77));
});

test('resizeDataset and convertChannels reshape a whole dataset', () => {
  const ds = syntheticDataset([3, 3], 6, 5, 1);
  const big = resizeDataset(ds, 12, 10);
  assert.equal(big.images.length, 6 * 120);
  assert.ok(big.images.buffer instanceof SharedArrayBuffer);
  const rgb = convertChannels(big, 3);
  assert.equal(rgb.channels, 3);
  for (let i = 0; i < 120; i++) {
    assert.equal(rgb.images[i * 3], big.images[i]);
    assert.equal(rgb.images[i * 3 + 2], big.images[i]);
  }
  assert.deepEqual(Array.from(convertChannels(rgb, 1).images), Array.from(big.images));
});
