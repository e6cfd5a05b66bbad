import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Augmenter, type AugmentOptions, normalizationTable } from '../../src/data/augment.ts';
import * as px from '../../src/data/pixel-ops.ts';
import { RAND_AUGMENT_OPS, randAugment } from '../../src/data/rand-augment.ts';
import { Rng } from '../../src/data/rng.ts';

const NORM = { mean: [0.5], std: [0.25] };
const shape = { height: 6, width: 5, channels: 1 };

function image(h = 6, w = 5, c = 1): Uint8Array {
  return Uint8Array.from({ length: h * w * c }, (_, i) => (i * 37 + 11) % 256);
}

function run(options: AugmentOptions, seed: number, src = image(), s = shape): Float32Array {
  const out = new Float32Array(s.height * s.width * s.channels);
  new Augmenter(options, s).apply(src, 0, out, 0, new Rng(seed));
  return out;
}

const norm = (v: number): number => Math.fround((v / 255 - 0.5) / 0.25);

test('normalisation table: (v/255 - mean) / std per channel', () => {
  const lut = normalizationTable({ mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 1] }, 3);
  assert.equal(lut[0 * 256 + 255], Math.fround((1 - 0.1) / 0.5));
  assert.equal(lut[1 * 256 + 0], Math.fround(-0.2 / 0.25));
  assert.equal(lut[2 * 256 + 51], Math.fround(0.2 - 0.3));
  assert.throws(() => normalizationTable({ mean: [0.1, 0.2], std: [1] }, 3), /mean has 2 values for 3 channels/);
  assert.throws(() => normalizationTable({ mean: [0], std: [0] }, 1), /positive/);
});

test('without augmentation the pipeline only normalises', () => {
  const src = image();
  const out = run({ normalize: NORM }, 1, src);
  src.forEach((v, i) => {
    assert.equal(out[i], norm(v));
  });
});

test('flip mirrors rows; crop with padding shifts and fills with the fill value', () => {
  const src = image();
  // Find seeds that flip / do not flip: the draw is seeded, so the result must be one of the two.
  const flips = [0, 1, 2, 3, 4, 5, 6, 7].map((seed) => run({ normalize: NORM, flip: true }, seed, src));
  const mirrored = (o: Float32Array): boolean =>
    Array.from(src).every((v, i) => o[Math.floor(i / 5) * 5 + (4 - (i % 5))] === norm(v));
  const plain = (o: Float32Array): boolean => Array.from(src).every((v, i) => o[i] === norm(v));
  assert.ok(flips.every((o) => mirrored(o) || plain(o)));
  assert.ok(flips.some(mirrored) && flips.some(plain));

  for (let seed = 0; seed < 10; seed++) {
    const out = run({ normalize: NORM, cropPadding: 2 }, seed, src);
    // Some shift (dy, dx) in [-2, 2]^2 explains every output pixel.
    let explained = false;
    for (let dy = -2; dy <= 2 && !explained; dy++) {
      for (let dx = -2; dx <= 2 && !explained; dx++) {
        explained = Array.from(out).every((v, i) => {
          const sy = Math.floor(i / 5) + dy;
          const sx = (i % 5) + dx;
          const inside = sy >= 0 && sy < 6 && sx >= 0 && sx < 5;
          return v === norm(inside ? src[sy * 5 + sx] : 0);
        });
      }
    }
    assert.ok(explained, `seed ${seed}: output is not a padded crop`);
  }
});

test('augmentation is deterministic under a seed and varies across seeds', () => {
  const options: AugmentOptions = {
    normalize: NORM,
    cropPadding: 2,
    flip: true,
    randAugment: { ops: 3, magnitude: 9, magnitudeStd: 0.5, probability: 0.8 },
    erasing: { probability: 0.5 },
  };
  const a = run(options, 123);
  assert.deepEqual(run(options, 123), a);
  const others = [1, 2, 3, 4, 5].map((s) => run(options, s));
  assert.ok(others.some((o) => o.some((v, i) => v !== a[i])));
});

test('random erasing replaces one rectangle, with noise or zeros', () => {
  const src = image(10, 10);
  const s = { height: 10, width: 10, channels: 1 };
  for (const mode of ['pixel', 'zero'] as const) {
    const out = run({ normalize: NORM, erasing: { probability: 1, mode } }, 5, src, s);
    const changed = Array.from(out)
      .map((v, i) => (v !== norm(src[i]) ? i : -1))
      .filter((i) => i >= 0);
    assert.ok(changed.length > 0 && changed.length < 100);
    const rows = changed.map((i) => Math.floor(i / 10));
    const cols = changed.map((i) => i % 10);
    const area = (Math.max(...rows) - Math.min(...rows) + 1) * (Math.max(...cols) - Math.min(...cols) + 1);
    assert.ok(changed.length <= area);
    if (mode === 'zero') for (const i of changed) assert.equal(out[i], 0);
  }
  const never = run({ normalize: NORM, erasing: { probability: 0 } }, 5, src, s);
  src.forEach((v, i) => {
    assert.equal(never[i], norm(v));
  });
});

test('pixel ops match PIL: equalize, autocontrast, solarize, posterize', () => {
  const s = { height: 20, width: 20, channels: 1 };
  const src = Uint8Array.from({ length: 400 }, (_, i) => (((i * 13) % 7) * 20 + 30 + (i % 3)) & 0xff);
  const out = new Uint8Array(400);
  px.equalize(src, out, s);
  // From PIL 9.4 ImageOps.equalize on the same image: value -> equalised value.
  const pil: Record<number, number> = {
    30: 0,
    31: 20,
    32: 39,
    50: 58,
    51: 77,
    52: 96,
    70: 115,
    71: 134,
    72: 153,
    90: 172,
  };
  Object.assign(pil, { 91: 191, 92: 210, 110: 229, 111: 248, 112: 255, 130: 255, 131: 255, 132: 255, 150: 255 });
  src.forEach((v, i) => {
    assert.equal(out[i], pil[v] ?? 255, `equalize(${v})`);
  });
  px.autoContrast(src, out, s);
  assert.equal(Math.min(...out), 0);
  assert.equal(Math.max(...out), 255);
  px.solarize(Uint8Array.from([0, 127, 128, 255]), out, 128);
  assert.deepEqual(Array.from(out.subarray(0, 4)), [0, 127, 127, 0]);
  px.posterize(Uint8Array.from([255, 17, 128]), out, 4);
  assert.deepEqual(Array.from(out.subarray(0, 3)), [240, 16, 128]);
});

test('a 90 degree rotation of an even-sized image permutes pixels exactly', () => {
  const s = { height: 4, width: 4, channels: 1 };
  const src = Uint8Array.from({ length: 16 }, (_, i) => i * 10);
  const out = new Uint8Array(16);
  px.affine(src, out, s, px.rotationMatrix(90), 0);
  assert.deepEqual(
    Array.from(out).sort((a, b) => a - b),
    Array.from(src),
  );
  assert.notDeepEqual(Array.from(out), Array.from(src));
  // Translating by the full width exposes only fill.
  px.affine(src, out, s, [1, 0, 4, 0, 1, 0], 9);
  assert.deepEqual(Array.from(out), new Array(16).fill(9));
});

test('every RandAugment operation runs, deterministically, on grey and RGB images', () => {
  // Few distinct levels over enough pixels (PIL leaves images under 256 pixels alone), so equalize acts.
  const levels = (c: number): Uint8Array =>
    Uint8Array.from({ length: 400 * c }, (_, i) => ((i * 7) % 5) * 40 + 20 + (i % 3));
  for (const channels of [1, 3]) {
    const s = { height: 20, width: 20, channels };
    for (const op of RAND_AUGMENT_OPS) {
      const once = (): Uint8Array => {
        const img = levels(channels);
        randAugment(
          img,
          new Uint8Array(img.length),
          s,
          { ops: 1, magnitude: 7, probability: 1, choices: [op] },
          0,
          new Rng(4),
        );
        return img;
      };
      const a = once();
      assert.deepEqual(once(), a, `${op} is deterministic`);
      if (op !== 'identity' && !(op === 'color' && channels === 1)) {
        assert.notDeepEqual(Array.from(a), Array.from(levels(channels)), `${op} changes the image`);
      }
    }
  }
});

test('bad augmentation options are rejected with the option named', () => {
  assert.throws(() => new Augmenter({ normalize: NORM, cropPadding: -1 }, shape), /cropPadding/);
  assert.throws(() => new Augmenter({ normalize: NORM, randAugment: { ops: 2, magnitude: 11 } }, shape), /magnitude/);
  assert.throws(
    () => new Augmenter({ normalize: NORM, randAugment: { ops: 2, magnitude: 5, choices: ['blur' as never] } }, shape),
    /unknown randAugment operation 'blur'/,
  );
  assert.throws(() => new Augmenter({ normalize: NORM, erasing: { probability: 2 } }, shape), /erasing.probability/);
});

test('affine warps agree with a direct bilinear reference, borders included', () => {
  const s = { height: 9, width: 8, channels: 3 };
  const src = Uint8Array.from({ length: 9 * 8 * 3 }, (_, i) => (i * 53 + 7) % 256);
  const fill = 17;
  const m: [number, number, number, number, number, number] = [0.9, 0.35, 1.3, -0.4, 1.1, -0.7];
  const out = new Uint8Array(src.length);
  px.affine(src, out, s, m, fill);
  const at = (y: number, x: number, k: number): number =>
    y >= 0 && y < 9 && x >= 0 && x < 8 ? src[(y * 8 + x) * 3 + k] : fill;
  for (let y = 0; y < 9; y++) {
    for (let x = 0; x < 8; x++) {
      const u = x + 0.5 - 4;
      const v = y + 0.5 - 4.5;
      const sx = m[0] * u + m[1] * v + m[2] + 4 - 0.5;
      const sy = m[3] * u + m[4] * v + m[5] + 4.5 - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      for (let k = 0; k < 3; k++) {
        const top = at(y0, x0, k) * (1 - (sx - x0)) + at(y0, x0 + 1, k) * (sx - x0);
        const bottom = at(y0 + 1, x0, k) * (1 - (sx - x0)) + at(y0 + 1, x0 + 1, k) * (sx - x0);
        const expected = Math.round(top * (1 - (sy - y0)) + bottom * (sy - y0));
        // The two ways of writing bilinear interpolation round differently at exact halves.
        assert.ok(Math.abs(out[(y * 8 + x) * 3 + k] - expected) <= 1, `(${y}, ${x}, ${k})`);
      }
    }
  }
});
