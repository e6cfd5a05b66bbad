// Shared by the export and inference tests: child networks with random weights and *trained-like*
// batch-norm statistics (recalibrated on real images, then perturbed), and real input images.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import {
  FASHION_MNIST_DIR,
  FASHION_MNIST_PRESET,
  type ImageDataset,
  loadPools,
  resizeBilinear,
} from '../../src/data/index.ts';
import { ChildNetwork } from '../../src/models/index.ts';
import { BatchNorm2d, InitRandom, type Module } from '../../src/nn/index.ts';
import { type Arch, atResolution, loadSpace, type SearchSpace } from '../../src/space/index.ts';
import { noGrad, Tensor, tidy } from '../../src/tensor/index.ts';

export const HAVE_FASHION_MNIST = existsSync(FASHION_MNIST_DIR);

/** Every op kind of the fmnist spaces: expansions, kernels, SE, skips, residuals, a stride-2 7x7. */
export const FMNIST_ARCH: Arch = [
  ['k3e4', 'skip', 'k7e6', 'skip'],
  ['k5e6', 'k3e6', 'skip', 'skip'],
  ['k7e4', 'k5e4', 'k3e6', 'k5e6'],
  ['k3e6', 'skip', 'skip', 'skip'],
];
export const RESBLOCK_ARCH: Arch = [
  ['res_k3', 'k3e4'],
  ['k5e6', 'res_k5'],
  ['res_k3', 'res_k3'],
  ['k3e4', 'skip'],
];
/** imagenet+conv: plain conv choices, the fixed 1x1 conv block and the features head. */
export const IMAGENET_CONV_ARCH: Arch = [['conv3'], ['k3e4', 'conv5'], ['k5e6'], ['k3e6', 'conv3'], ['k5e4']];

function* batchNorms(m: Module): Generator<BatchNorm2d> {
  if (m instanceof BatchNorm2d) yield m;
  for (const [, c] of m.children()) yield* batchNorms(c);
}

let testPool: ImageDataset | null = null;

/**
 * `count` Fashion-MNIST test images, normalised like training, NHWC, resized to `size` and
 * replicated to `channels` when asked. Null when the dataset is not installed.
 */
export function fashionImages(count: number, size = 28, channels = 1): Float32Array | null {
  if (!HAVE_FASHION_MNIST) return null;
  testPool ??= loadPools({ kind: 'fashion-mnist' }).test!;
  const test = testPool;
  const out = new Float32Array(count * size * size * channels);
  const resized = new Uint8Array(size * size);
  const { mean, std } = FASHION_MNIST_PRESET.normalize;
  for (let i = 0; i < count; i++) {
    // Every 97th image, so the batch mixes classes.
    const src = test.images.subarray(((i * 97) % test.count) * 784, (((i * 97) % test.count) + 1) * 784);
    let pixels = src;
    if (size !== 28) {
      resizeBilinear(src, 28, 28, 1, resized, size, size);
      pixels = resized;
    }
    for (let p = 0; p < size * size; p++) {
      const v = (pixels[p] / 255 - mean[0]) / std[0];
      for (let c = 0; c < channels; c++) out[(i * size * size + p) * channels + c] = v;
    }
  }
  return out;
}

/** Deterministic normal-ish images when the dataset is absent (BN calibration only). */
export function noiseImages(count: number, size: number, channels: number, seed = 5): Float32Array {
  const rng = new InitRandom(seed);
  const out = new Float32Array(count * size * size * channels);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

export interface TestNetwork {
  space: SearchSpace;
  arch: Arch;
  net: ChildNetwork;
}

/**
 * A child network in eval mode with random weights whose BN running statistics come from one
 * training-mode pass over `calibration` (momentum 1), with gamma and beta then drawn at random and
 * the statistics perturbed: far from the identity, as after training, so BN folding is exercised.
 */
export function trainedLikeNetwork(
  spaceName: string,
  arch: Arch,
  opts: { resolution?: number; seed?: number } = {},
): TestNetwork {
  const base = loadSpace(spaceName);
  const space = opts.resolution ? atResolution(base, opts.resolution) : base;
  const seed = opts.seed ?? 1;
  const net = new ChildNetwork(space, arch, new InitRandom(seed));
  const size = space.resolution;
  const c = space.inputChannels;
  const calibration = fashionImages(16, size, c) ?? noiseImages(16, size, c);
  const norms = [...batchNorms(net)];
  for (const bn of norms) bn.momentum = 1;
  net.train();
  noGrad(() => tidy(() => void net.forward(Tensor.from(calibration, [16, size, size, c]))));
  const rng = new InitRandom(seed + 100);
  for (const bn of norms) {
    bn.momentum = 0.1;
    const [g, b, m, v] = [bn.weight.f32, bn.bias.f32, bn.runningMean.f32, bn.runningVar.f32];
    for (let i = 0; i < bn.channels; i++) {
      g[i] = 0.5 + rng.next();
      b[i] = 0.2 * rng.normal();
      m[i] += 0.05 * rng.normal() * Math.sqrt(v[i]);
      v[i] *= 0.8 + 0.4 * rng.next();
    }
  }
  net.eval();
  // A trained classifier's logits are of order 10, not the hundreds random weights give on
  // calibrated features: scale the classifier so the calibration batch's largest logit is 8.
  const logits = referenceLogits(net, calibration, 16);
  const k = 8 / maxAbs(logits);
  const cls = net.head.classifier;
  for (const t of [cls.weight, cls.bias]) if (t) for (let i = 0; i < t.size; i++) t.f32[i] *= k;
  return { space, arch, net };
}

/** Logits of the ordinary eval-mode forward (the reference every export is compared with). */
export function referenceLogits(net: ChildNetwork, x: Float32Array, batch: number): Float32Array {
  const size = net.space.resolution;
  const c = net.space.inputChannels;
  return noGrad(() => {
    const y = tidy(() => net.forward(Tensor.from(x, [batch, size, size, c])));
    const out = y.f32.slice();
    y.dispose();
    return out;
  });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest |logit|, to show the comparison is not between near-zero numbers. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** NHWC -> NCHW copy (ONNX input). */
export function toNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + i) * w + j] = x[((b * h + i) * w + j) * c + k];
  return out;
}

/**
 * What an export test file shares: a temporary folder and the fmnist network (built on first use,
 * for the tests that only read it), both removed after the file's tests.
 */
export function exportTestBed(prefix: string): { dir: string; fmnist: () => TestNetwork } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let shared: TestNetwork | null = null;
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    shared?.net.dispose();
  });
  return { dir, fmnist: () => (shared ??= trainedLikeNetwork('fmnist', FMNIST_ARCH)) };
}
