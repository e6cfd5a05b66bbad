// Photometric and geometric operations on one uint8 image [height, width, channels], modelled on
// the PIL operations that torchvision and timm's RandAugment use, so that magnitudes mean the same
// thing. Every function writes `dst` (which may not alias `src` for geometric ops; the photometric
// ones allow dst === src).

/** Geometry of one image. */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/**
 * Inverse affine warp with bilinear sampling: output pixel (u, v), measured from the image centre,
 * reads input position (a u + b v + tx, c u + d v + ty), also from the centre. Samples outside the
 * image read `fill`. Working about the centre keeps shears and rotations from sliding the object out.
 */
export function affine(
  src: Uint8Array,
  dst: Uint8Array,
  shape: ImageShape,
  m: [number, number, number, number, number, number],
  fill: number,
): void {
  const { height: h, width: w, channels: ch } = shape;
  const [a, b, tx, c, d, ty] = m;
  const cx = w / 2;
  const cy = h / 2;
  const row = w * ch;
  for (let y = 0; y < h; y++) {
    const v = y + 0.5 - cy;
    // Source position of output x = 0; it moves by (a, c) per output pixel.
    let sx = a * (0.5 - cx) + b * v + tx + cx - 0.5;
    let sy = c * (0.5 - cx) + d * v + ty + cy - 0.5;
    for (let x = 0; x < w; x++, sx += a, sy += c) {
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const out = y * row + x * ch;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        // All four neighbours inside: the common case, without per-sample bounds tests.
        const i = y0 * row + x0 * ch;
        for (let k = 0; k < ch; k++) {
          const top = src[i + k] + (src[i + ch + k] - src[i + k]) * fx;
          const bottom = src[i + row + k] + (src[i + row + ch + k] - src[i + row + k]) * fx;
          dst[out + k] = top + (bottom - top) * fy + 0.5; // in 0..255, so the store truncates = rounds
        }
        continue;
      }
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        for (let k = 0; k < ch; k++) dst[out + k] = fill;
        continue;
      }
      const in00 = y0 >= 0 && x0 >= 0;
      const in01 = y0 >= 0 && x0 + 1 < w;
      const in10 = y0 + 1 < h && x0 >= 0;
      const in11 = y0 + 1 < h && x0 + 1 < w;
      const i = y0 * row + x0 * ch;
      for (let k = 0; k < ch; k++) {
        const p00 = in00 ? src[i + k] : fill;
        const p01 = in01 ? src[i + ch + k] : fill;
        const p10 = in10 ? src[i + row + k] : fill;
        const p11 = in11 ? src[i + row + ch + k] : fill;
        const top = p00 + (p01 - p00) * fx;
        const bottom = p10 + (p11 - p10) * fx;
        dst[out + k] = top + (bottom - top) * fy + 0.5;
      }
    }
  }
}

/** Rotation by `degrees` about the centre (inverse-map matrix for {@link affine}). */
export function rotationMatrix(degrees: number): [number, number, number, number, number, number] {
  const r = (degrees * Math.PI) / 180;
  const cos = Math.cos(r);
  const sin = Math.sin(r);
  return [cos, sin, 0, -sin, cos, 0];
}

/** Stretches each channel so its darkest value becomes 0 and its brightest 255 (PIL autocontrast, cutoff 0). */
export function autoContrast(src: Uint8Array, dst: Uint8Array, shape: ImageShape): void {
  const { channels: ch } = shape;
  const n = shape.height * shape.width * ch;
  for (let k = 0; k < ch; k++) {
    let lo = 255;
    let hi = 0;
    for (let i = k; i < n; i += ch) {
      if (src[i] < lo) lo = src[i];
      if (src[i] > hi) hi = src[i];
    }
    if (hi <= lo) {
      for (let i = k; i < n; i += ch) dst[i] = src[i];
      continue;
    }
    const scale = 255 / (hi - lo);
    for (let i = k; i < n; i += ch) dst[i] = clampByte((src[i] - lo) * scale);
  }
}

/** Per-channel histogram equalisation, with PIL's ImageOps.equalize rounding. */
export function equalize(src: Uint8Array, dst: Uint8Array, shape: ImageShape): void {
  const { channels: ch } = shape;
  const n = shape.height * shape.width * ch;
  const hist = new Int32Array(256);
  const lut = new Uint8Array(256);
  for (let k = 0; k < ch; k++) {
    hist.fill(0);
    for (let i = k; i < n; i += ch) hist[src[i]]++;
    let last = 255;
    while (last > 0 && hist[last] === 0) last--;
    const step = Math.floor((n / ch - hist[last]) / 255);
    if (step === 0) {
      for (let i = k; i < n; i += ch) dst[i] = src[i];
      continue;
    }
    let acc = Math.floor(step / 2);
    for (let v = 0; v < 256; v++) {
      lut[v] = Math.min(255, Math.floor(acc / step));
      acc += hist[v];
    }
    for (let i = k; i < n; i += ch) dst[i] = lut[src[i]];
  }
}

/** Inverts every value at or above `threshold`. */
export function solarize(src: Uint8Array, dst: Uint8Array, threshold: number): void {
  for (let i = 0; i < src.length; i++) dst[i] = src[i] >= threshold ? 255 - src[i] : src[i];
}

/** Keeps the `bits` most significant bits of every value. */
export function posterize(src: Uint8Array, dst: Uint8Array, bits: number): void {
  const mask = (0xff << (8 - bits)) & 0xff;
  for (let i = 0; i < src.length; i++) dst[i] = src[i] & mask;
}

/** Inverts every value. */
export function invert(src: Uint8Array, dst: Uint8Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = 255 - src[i];
}

/** Maps every value through a 256-entry table (point operations are cheaper as tables). */
function applyTable(src: Uint8Array, dst: Uint8Array, table: Uint8Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i]];
}

/** A table of clampByte(offset + v * factor) for v = 0..255. */
function linearTable(factor: number, offset: number): Uint8Array {
  const table = new Uint8Array(256);
  for (let v = 0; v < 256; v++) table[v] = clampByte(offset + v * factor);
  return table;
}

/** PIL ImageEnhance.Brightness: blends towards black (factor 0) or beyond the image (factor > 1). */
export function brightness(src: Uint8Array, dst: Uint8Array, factor: number): void {
  applyTable(src, dst, linearTable(factor, 0));
}

/** Mean grey level of the image (its luma for RGB), rounded as PIL's ImageEnhance.Contrast does. */
function meanLuma(src: Uint8Array, shape: ImageShape): number {
  const { channels: ch } = shape;
  let sum = 0;
  if (ch === 1) for (let i = 0; i < src.length; i++) sum += src[i];
  else for (let i = 0; i < src.length; i += ch) sum += 0.299 * src[i] + 0.587 * src[i + 1] + 0.114 * src[i + 2];
  return Math.floor(sum / (shape.height * shape.width) + 0.5);
}

/** PIL ImageEnhance.Contrast: blends with the image's mean grey level. */
export function contrast(src: Uint8Array, dst: Uint8Array, shape: ImageShape, factor: number): void {
  const mean = meanLuma(src, shape);
  applyTable(src, dst, linearTable(factor, mean * (1 - factor)));
}

/** PIL ImageEnhance.Color: blends each pixel with its grey version (no effect on grey images). */
export function color(src: Uint8Array, dst: Uint8Array, shape: ImageShape, factor: number): void {
  const { channels: ch } = shape;
  if (ch === 1) {
    dst.set(src);
    return;
  }
  for (let i = 0; i < src.length; i += ch) {
    const grey = 0.299 * src[i] + 0.587 * src[i + 1] + 0.114 * src[i + 2];
    for (let k = 0; k < 3; k++) dst[i + k] = clampByte(grey + (src[i + k] - grey) * factor);
  }
}

/**
 * PIL ImageEnhance.Sharpness: blends with the image smoothed by PIL's 3x3 SMOOTH kernel
 * (centre 5, neighbours 1, sum 13); border pixels keep their value, as in PIL.
 */
export function sharpness(src: Uint8Array, dst: Uint8Array, shape: ImageShape, factor: number): void {
  const { height: h, width: w, channels: ch } = shape;
  if (src !== dst) dst.set(src);
  if (h < 3 || w < 3) return;
  const smooth = new Uint8Array(src.length);
  const row = w * ch;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let k = 0; k < ch; k++) {
        const i = y * row + x * ch + k;
        const s =
          src[i - row - ch] +
          src[i - row] +
          src[i - row + ch] +
          src[i - ch] +
          5 * src[i] +
          src[i + ch] +
          src[i + row - ch] +
          src[i + row] +
          src[i + row + ch];
        smooth[i] = clampByte(s / 13);
      }
    }
  }
  for (let y = 1; y < h - 1; y++) {
    for (let i = y * row + ch; i < (y + 1) * row - ch; i++)
      dst[i] = clampByte(smooth[i] + (src[i] - smooth[i]) * factor);
  }
}
