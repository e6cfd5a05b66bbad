import { native } from '../native.ts';
import { record } from '../tape.ts';
import { shapeString, Tensor } from '../tensor.ts';
import { float32, rank, shapeIs } from './check.ts';
import { EMPTY, gemmGrads } from './gemm-grads.ts';

export interface Conv2dOptions {
  /** Same stride along H and W (default 1). */
  stride?: number;
  /** Symmetric zero padding along H and W (default 0). */
  padding?: number;
  /** Channel groups (default 1); Cin and Cout must be divisible by it. */
  groups?: number;
  /** Per-output-channel bias [Cout]. */
  bias?: Tensor | null;
}

function intAtLeast(op: string, name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${op}: ${name} must be an integer >= ${min}, got ${v}`);
}

/**
 * 2-D convolution, NHWC: x [N, H, W, Cin], w [KH, KW, Cin/groups, Cout] -> [N, Ho, Wo, Cout] with
 * Ho = floor((H + 2 padding - KH) / stride) + 1. A 1x1 stride-1 unpadded ungrouped conv is one GEMM
 * over the N*H*W pixels; everything else goes to oneDNN's convolution primitives.
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const { stride = 1, padding = 0, groups = 1 } = opts;
  const bias = opts.bias ?? null;
  rank(op, x, 4, 'x');
  rank(op, w, 4, 'w');
  float32(op, x, 'x');
  float32(op, w, 'w');
  intAtLeast(op, 'stride', stride, 1);
  intAtLeast(op, 'padding', padding, 0);
  intAtLeast(op, 'groups', groups, 1);
  const [n, h, wd, cin] = x.shape;
  const [kh, kw, cinPerGroup, cout] = w.shape;
  if (x.size === 0 || w.size === 0) {
    throw new Error(
      `${op}: x ${shapeString(x.shape)} and w ${shapeString(w.shape)} must not have zero-sized dimensions`,
    );
  }
  if (cin % groups !== 0 || cout % groups !== 0) {
    throw new Error(`${op}: x channels ${cin} and w output channels ${cout} must be divisible by groups ${groups}`);
  }
  if (cinPerGroup * groups !== cin) {
    throw new Error(
      `${op}: w ${shapeString(w.shape)} expects ${cinPerGroup * groups} input channels (Cin/groups = ${cinPerGroup}, groups ${groups}), x ${shapeString(x.shape)} has ${cin}`,
    );
  }
  if (bias) {
    float32(op, bias, 'bias');
    shapeIs(op, bias, [cout], 'bias');
  }
  const ho = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const wo = Math.floor((wd + 2 * padding - kw) / stride) + 1;
  if (ho < 1 || wo < 1 || n < 1) {
    throw new Error(
      `${op}: kernel ${kh}x${kw} does not fit x ${shapeString(x.shape)} with padding ${padding} (output ${ho}x${wo})`,
    );
  }
  const out = Tensor.empty([n, ho, wo, cout]);
  if (kh === 1 && kw === 1 && stride === 1 && padding === 0 && groups === 1) {
    return pointwise(x, w, bias, out);
  }

  const dims = [n, h, wd, cin, cout, kh, kw, stride, padding, groups] as const;
  native.convForward(x.f32, w.f32, bias ? bias.f32 : EMPTY, out.f32, ...dims, bias !== null);
  return record(op, out, [x, w, bias], (g) => {
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (x.requiresGrad) {
      gx = Tensor.empty(x.shape);
      native.convBackwardData(g.f32, w.f32, gx.f32, ...dims, bias !== null);
    }
    const biasGrad = bias?.requiresGrad === true;
    if (biasGrad) gb = Tensor.empty([cout]);
    if (w.requiresGrad) {
      gw = Tensor.empty(w.shape);
      // oneDNN computes the bias gradient in the same pass over gradOut.
      native.convBackwardWeights(x.f32, g.f32, gw.f32, gb ? gb.f32 : EMPTY, ...dims, biasGrad);
    } else if (gb) {
      native.gemmBiasGrad(g.f32, gb.f32, n * ho * wo, cout);
    }
    return [gx, gw, gb];
  });
}

/** out [M, Cout] = x [M, Cin] . w [Cin, Cout] (+ bias), M = N*H*W: one GEMM over the pixels. */
function pointwise(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor): Tensor {
  const cin = x.shape[3];
  const cout = w.shape[3];
  const m = x.size / cin;
  native.gemmForward(x.f32, w.f32, bias ? bias.f32 : EMPTY, out.f32, m, cin, cout, bias !== null);
  // gx = g . w^T, gw = x^T . g, gb = sum of g over pixels, in one pass over g.
  return record('conv2d', out, [x, w, bias], (g) => gemmGrads(x, w, bias, g, m, cin, cout));
}
