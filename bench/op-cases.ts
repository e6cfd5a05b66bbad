// The cases of the per-op benchmark (bench/ops.ts): the engine's ops at the search space's shapes
// (batch 128), each with what bench/torch_reference.py needs to build the same op in PyTorch and its
// FLOP counts. Convs and linear count 2 FLOPs per multiply-add; forward+backward is 3x forward (2x
// where the input needs no gradient). BN and activations are memory-bound, so their FLOPs are nominal
// per-element counts (BN 4 forward / 10 forward+backward, activations 1 / 3).
import * as tensor from '../src/tensor/index.ts';
import { Tensor } from '../src/tensor/index.ts';

type OpFn = (...args: unknown[]) => Tensor;
/** Looks an op up by name, so cases for ops other engineers have not landed yet are skipped, not type errors. */
export function op(name: string): OpFn | undefined {
  const f = (tensor as unknown as Record<string, unknown>)[name];
  return typeof f === 'function' ? (f as OpFn) : undefined;
}

export type OpKind = 'pointwise' | 'dense' | 'depthwise' | 'linear' | 'bn' | 'activation' | 'block';

/** A benchmark case: what bench/torch_reference.py needs to build the same op, plus FLOP counts. */
export interface OpCaseSpec {
  op: string;
  kind: OpKind;
  /** Input shape (NHWC, or [N, in] for linear). */
  shape: number[];
  cout?: number;
  k?: number;
  stride?: number;
  padding?: number;
  groups?: number;
  bias?: boolean;
  /** Whether the input needs a gradient (false for a stem conv on images). */
  xGrad: boolean;
  /** BN / block activation, or the activation op itself. */
  act?: string;
  expand?: number;
  fwdFlops: number;
  fwdBwdFlops: number;
}

export interface OpCase extends OpCaseSpec {
  /** Names of the engine ops the case needs. */
  needs: string[];
  /** Creates inputs and parameters; returns the forward closure. */
  setup: () => { forward: () => Tensor; params: Tensor[]; x: Tensor };
}

function rand(shape: number[], scale = 1): Tensor {
  const t = Tensor.empty(shape);
  const d = t.f32;
  let s = 12345;
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    d[i] = ((s >>> 8) / 16777216 - 0.5) * 2 * scale;
  }
  return t;
}

function param(shape: number[], scale = 0.1): Tensor {
  return rand(shape, scale).asParameter();
}

function input(shape: number[], grad: boolean): Tensor {
  const x = tensor.keep(rand(shape));
  x.requiresGrad = grad;
  return x;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const outSize = (h: number, k: number, s: number, p: number) => Math.floor((h + 2 * p - k) / s) + 1;

function convCase(
  kind: 'pointwise' | 'dense',
  shape: number[],
  cout: number,
  k = 1,
  stride = 1,
  padding = 0,
  groups = 1,
  xGrad = true,
): OpCase {
  const [n, h, w, cin] = shape;
  const ho = outSize(h, k, stride, padding);
  const wo = outSize(w, k, stride, padding);
  const fwd = 2 * n * ho * wo * k * k * (cin / groups) * cout;
  const name =
    kind === 'pointwise'
      ? 'conv1x1'
      : `conv${k}x${k}${stride > 1 ? `s${stride}` : ''}${groups > 1 ? `g${groups}` : ''}`;
  return {
    op: name,
    kind,
    shape,
    cout,
    k,
    stride,
    padding,
    groups,
    bias: false,
    xGrad,
    fwdFlops: fwd,
    fwdBwdFlops: fwd * (xGrad ? 3 : 2),
    needs: ['conv2d'],
    setup: () => {
      const x = input(shape, xGrad);
      const wt = param([k, k, cin / groups, cout]);
      return { x, params: [wt], forward: () => tensor.conv2d(x, wt, { stride, padding, groups }) };
    },
  };
}

function depthwiseCase(shape: number[], k: number, stride: number): OpCase {
  const [n, h, w, c] = shape;
  const padding = k >> 1;
  const fwd = 2 * n * outSize(h, k, stride, padding) * outSize(w, k, stride, padding) * c * k * k;
  return {
    op: `dw${k}x${k}${stride > 1 ? `s${stride}` : ''}`,
    kind: 'depthwise',
    shape,
    cout: c,
    k,
    stride,
    padding,
    groups: c,
    bias: false,
    xGrad: true,
    fwdFlops: fwd,
    fwdBwdFlops: 3 * fwd,
    needs: ['depthwiseConv2d'],
    setup: () => {
      const x = input(shape, true);
      const wt = param([k, k, c]);
      return { x, params: [wt], forward: () => op('depthwiseConv2d')!(x, wt, { stride, padding }) };
    },
  };
}

function linearCase(n: number, fin: number, fout: number): OpCase {
  const fwd = 2 * n * fin * fout;
  return {
    op: 'linear',
    kind: 'linear',
    shape: [n, fin],
    cout: fout,
    bias: true,
    xGrad: true,
    fwdFlops: fwd,
    fwdBwdFlops: 3 * fwd,
    needs: ['linear'],
    setup: () => {
      const x = input([n, fin], true);
      const w = param([fin, fout]);
      const b = param([fout]);
      return { x, params: [w, b], forward: () => tensor.linear(x, w, b) };
    },
  };
}

function batchNormArgs(c: number): Tensor[] {
  return [
    Tensor.full([c], 1).asParameter(),
    Tensor.zeros([c]).asParameter(),
    tensor.keep(Tensor.zeros([c])),
    tensor.keep(Tensor.full([c], 1)),
  ];
}

function bnCase(shape: number[], act: string): OpCase {
  const elems = size(shape);
  return {
    op: act === 'none' ? 'batchnorm' : `batchnorm+${act}`,
    kind: 'bn',
    shape,
    act,
    xGrad: true,
    fwdFlops: 4 * elems,
    fwdBwdFlops: 10 * elems,
    needs: ['batchNorm'],
    setup: () => {
      const x = input(shape, true);
      const [g, b, rm, rv] = batchNormArgs(shape[3]);
      const opts = { training: true, momentum: 0.1, eps: 1e-5, act };
      return { x, params: [g, b], forward: () => op('batchNorm')!(x, g, b, rm, rv, opts) };
    },
  };
}

function activationCase(name: string, shape: number[]): OpCase {
  const elems = size(shape);
  return {
    op: name,
    kind: 'activation',
    shape,
    act: name,
    xGrad: true,
    fwdFlops: elems,
    fwdBwdFlops: 3 * elems,
    needs: [name],
    setup: () => {
      const x = input(shape, true);
      return { x, params: [], forward: () => op(name)!(x) };
    },
  };
}

/**
 * MBConv without SE: 1x1 expand, BN+ReLU6, depthwise kxk, BN+ReLU6, 1x1 project, BN, run as the
 * engine's blocks run it (src/nn/conv-bn.ts: each conv fused with its batch-norm). FLOPs: the convs.
 */
function blockCase(shape: number[], expand: number, k: number): OpCase {
  const [n, h, w, c] = shape;
  const mid = c * expand;
  const pixels = n * h * w;
  const fwd = 2 * pixels * c * mid * 2 + 2 * pixels * mid * k * k;
  return {
    op: `mbconv_e${expand}_k${k}`,
    kind: 'block',
    shape,
    cout: c,
    k,
    expand,
    act: 'relu6',
    xGrad: true,
    fwdFlops: fwd,
    fwdBwdFlops: 3 * fwd,
    needs: ['pointwiseBatchNorm', 'depthwiseBatchNorm'],
    setup: () => {
      const x = input(shape, true);
      const w1 = param([1, 1, c, mid]);
      const wd = param([k, k, mid]);
      const w2 = param([1, 1, mid, c]);
      const bn1 = batchNormArgs(mid);
      const bn2 = batchNormArgs(mid);
      const bn3 = batchNormArgs(c);
      const dwBn = (t: Tensor, a: Tensor[], act: string) =>
        op('depthwiseBatchNorm')!(t, wd, a[0], a[1], a[2], a[3], { momentum: 0.1, eps: 1e-5, act, padding: k >> 1 });
      const convBn = (t: Tensor, w: Tensor, a: Tensor[], act: string) =>
        op('pointwiseBatchNorm')!(t, w, a[0], a[1], a[2], a[3], { momentum: 0.1, eps: 1e-5, act });
      return {
        x,
        params: [w1, wd, w2, bn1[0], bn1[1], bn2[0], bn2[1], bn3[0], bn3[1]],
        forward: () => {
          const e = convBn(x, w1, bn1, 'relu6');
          const d = dwBn(e, bn2, 'relu6');
          return convBn(d, w2, bn3, 'none');
        },
      };
    },
  };
}

/** The benchmark table; add a line to benchmark another op or shape. */
export function opCases(batch = 128): OpCase[] {
  const b = batch;
  return [
    convCase('pointwise', [b, 28, 28, 16], 96),
    convCase('pointwise', [b, 14, 14, 24], 144),
    convCase('pointwise', [b, 14, 14, 144], 24),
    convCase('pointwise', [b, 7, 7, 40], 240),
    convCase('pointwise', [b, 7, 7, 240], 80),
    convCase('pointwise', [b, 4, 4, 96], 576),
    convCase('pointwise', [b, 4, 4, 576], 96),
    // Stems (images need no gradient) and the +conv space's plain convs.
    convCase('dense', [b, 28, 28, 1], 16, 3, 1, 1, 1, false),
    convCase('dense', [b, 32, 32, 3], 16, 3, 2, 1, 1, false),
    convCase('dense', [b, 14, 14, 24], 24, 3, 1, 1),
    convCase('dense', [b, 14, 14, 24], 40, 3, 2, 1),
    convCase('dense', [b, 7, 7, 40], 40, 5, 1, 2),
    convCase('dense', [b, 7, 7, 80], 80, 3, 1, 1, 2),
    depthwiseCase([b, 28, 28, 96], 3, 2),
    depthwiseCase([b, 14, 14, 144], 3, 1),
    depthwiseCase([b, 14, 14, 144], 5, 1),
    depthwiseCase([b, 7, 7, 240], 7, 1),
    depthwiseCase([b, 4, 4, 576], 5, 1),
    linearCase(b, 576, 24),
    linearCase(b, 24, 576),
    linearCase(b, 1280, 10),
    bnCase([b, 28, 28, 96], 'none'),
    bnCase([b, 14, 14, 144], 'relu6'),
    bnCase([b, 7, 7, 240], 'swish'),
    activationCase('relu', [b, 14, 14, 144]),
    activationCase('swish', [b, 14, 14, 144]),
    activationCase('hardSigmoid', [b, 14, 14, 144]),
    blockCase([b, 14, 14, 24], 6, 3),
    blockCase([b, 7, 7, 40], 6, 5),
  ];
}
