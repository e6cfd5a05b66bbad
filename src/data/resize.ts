// Bilinear resize of uint8 HWC images, the way PIL's Image.resize(BILINEAR) does it: a separable
// triangle filter whose support widens with the downscale factor. Plain 4-tap bilinear would alias
// badly when shrinking e.g. a 375x500 ImageNet photo to 32x32; widening the filter averages all the
// source pixels that fall under an output pixel instead. For upscaling it is ordinary bilinear with
// half-pixel centres.

interface Taps {
  /** First source index of each output index. */
  start: Int32Array;
  /** Number of taps of each output index. */
  length: Int32Array;
  /** Weights, `maxTaps` per output index, normalised to sum 1. */
  weights: Float32Array;
  maxTaps: number;
}

function computeTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // triangle filter has support 1, stretched by filterScale
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const length = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.floor(center - support + 0.5), 0);
    const hi = Math.min(Math.floor(center + support + 0.5), inSize);
    let sum = 0;
    for (let i = lo; i < hi; i++) {
      const w = Math.max(0, 1 - Math.abs((i - center + 0.5) / filterScale));
      weights[o * maxTaps + i - lo] = w;
      sum += w;
    }
    for (let i = lo; i < hi; i++) weights[o * maxTaps + i - lo] /= sum || 1;
    start[o] = lo;
    length[o] = hi - lo;
  }
  return { start, length, weights, maxTaps };
}

/** Resizes one image `src` [inH, inW, channels] into `dst` [outH, outW, channels]. */
export function resizeBilinear(
  src: Uint8Array,
  inH: number,
  inW: number,
  channels: number,
  dst: Uint8Array,
  outH: number,
  outW: number,
): void {
  if (src.length < inH * inW * channels)
    throw new RangeError(`resize: source has ${src.length} bytes, needs ${inH * inW * channels}`);
  if (dst.length < outH * outW * channels)
    throw new RangeError(`resize: destination has ${dst.length} bytes, needs ${outH * outW * channels}`);
  if (inH === outH && inW === outW) {
    dst.set(src.subarray(0, inH * inW * channels));
    return;
  }
  const xt = computeTaps(inW, outW);
  const yt = computeTaps(inH, outH);
  // Horizontal pass into floats [inH, outW, C], then vertical pass into bytes.
  const mid = new Float32Array(inH * outW * channels);
  for (let y = 0; y < inH; y++) {
    const row = y * inW * channels;
    for (let x = 0; x < outW; x++) {
      const s = xt.start[x];
      const n = xt.length[x];
      const wBase = x * xt.maxTaps;
      const m = (y * outW + x) * channels;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += xt.weights[wBase + k] * src[row + (s + k) * channels + c];
        mid[m + c] = acc;
      }
    }
  }
  const rowLen = outW * channels;
  for (let y = 0; y < outH; y++) {
    const s = yt.start[y];
    const n = yt.length[y];
    const wBase = y * yt.maxTaps;
    const out = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += yt.weights[wBase + k] * mid[(s + k) * rowLen + i];
      dst[out + i] = acc <= 0 ? 0 : acc >= 255 ? 255 : Math.round(acc);
    }
  }
}
