/**
 * MACs and parameters of blocks, counted from shapes the way thop (2020) counted the paper's
 * numbers:
 *
 * - conv: output elements x (k*k*cin/groups + 1 if it has a bias)
 * - batch-norm: 2 per output element (eval-mode scale and shift); params gamma + beta
 *   (running statistics are buffers, not parameters)
 * - average pooling, global included: (pooled elements + 1) per output element
 * - linear: in x out per sample (the bias add is not counted); params in*out + out
 * - activations, the SE gate multiply, residual adds, dropout, identity: 0
 *
 * Every conv is bias-free except the SE convs and the post-pool head conv (when `head.bias`).
 */
import { SpaceError } from './errors.ts';
import { convOutputSize, makeDivisible, type OpSpec } from './ops.ts';

export interface Cost {
  macs: number;
  params: number;
}

export const ZERO_COST: Readonly<Cost> = Object.freeze({ macs: 0, params: 0 });

/** Accumulates the cost of a sequence of layers. Sizes are H = W. */
export class CostCounter {
  macs = 0;
  params = 0;

  /** Conv kxk stride s, padding k//2; returns the output size. */
  conv(cin: number, cout: number, kernel: number, stride: number, size: number, groups = 1, bias = false): number {
    const out = convOutputSize(size, kernel, stride);
    const perOutput = (kernel * kernel * cin) / groups + (bias ? 1 : 0);
    this.macs += out * out * cout * perOutput;
    this.params += (kernel * kernel * cin * cout) / groups + (bias ? cout : 0);
    return out;
  }

  bn(channels: number, size: number): void {
    this.macs += 2 * channels * size * size;
    this.params += 2 * channels;
  }

  /** Global average pool of `channels` maps of size x size to 1x1. */
  globalPool(channels: number, size: number): void {
    this.macs += channels * (size * size + 1);
  }

  linear(inFeatures: number, outFeatures: number, bias = true): void {
    this.macs += inFeatures * outFeatures;
    this.params += inFeatures * outFeatures + (bias ? outFeatures : 0);
  }

  /** Squeeze-excite on `channels` maps: pool, conv1x1 ->reduced (bias), ReLU, conv1x1 ->channels (bias), gate. */
  squeezeExcite(channels: number, size: number, seRatio: number): void {
    if (seRatio <= 0) return;
    const reduced = makeDivisible(channels * seRatio, 8);
    this.globalPool(channels, size);
    this.conv(channels, reduced, 1, 1, 1, 1, true);
    this.conv(reduced, channels, 1, 1, 1, 1, true);
  }

  add(c: Cost): void {
    this.macs += c.macs;
    this.params += c.params;
  }

  result(): Cost {
    return { macs: this.macs, params: this.params };
  }
}

/** Shape context of one layer. */
export interface LayerShape {
  inChannels: number;
  outChannels: number;
  stride: number;
  inputSize: number;
}

/** Cost of one searchable-layer op. `skip` costs nothing (it is only allowed where it is an identity). */
export function opCost(op: OpSpec, shape: LayerShape, seRatio: number): Cost {
  const { inChannels: cin, outChannels: cout, stride, inputSize } = shape;
  const c = new CostCounter();
  switch (op.kind) {
    case 'skip':
      if (stride !== 1 || cin !== cout) {
        throw new SpaceError(`skip cannot replace a layer with stride ${stride} or ${cin}->${cout} channels`);
      }
      return { macs: 0, params: 0 };
    case 'mbconv': {
      let size = inputSize;
      let mid = cin;
      if (op.expansion !== 1) {
        mid = makeDivisible(cin * op.expansion, 8);
        size = c.conv(cin, mid, 1, 1, size);
        c.bn(mid, size);
      }
      size = c.conv(mid, mid, op.kernel, stride, size, mid);
      c.bn(mid, size);
      c.squeezeExcite(mid, size, seRatio);
      size = c.conv(mid, cout, 1, 1, size);
      c.bn(cout, size);
      return c.result();
    }
    case 'resblock': {
      const mid = makeDivisible(cout / op.reduction, 8);
      let size = c.conv(cin, mid, 1, 1, inputSize);
      c.bn(mid, size);
      size = c.conv(mid, mid, op.kernel, stride, size);
      c.bn(mid, size);
      size = c.conv(mid, cout, 1, 1, size);
      c.bn(cout, size);
      if (stride !== 1 || cin !== cout) {
        const s = c.conv(cin, cout, 1, stride, inputSize);
        c.bn(cout, s);
      }
      return c.result();
    }
    case 'conv': {
      const size = c.conv(cin, cout, op.kernel, stride, inputSize);
      c.bn(cout, size);
      return c.result();
    }
  }
}

/** DepthwiseSeparable (timm `ds`): dw kxk stride s, BN, act, SE on cin, pw 1x1 cin->cout, BN. */
export function dsCost(shape: LayerShape, kernel: number, seRatio: number): Cost {
  const c = new CostCounter();
  const { inChannels: cin, outChannels: cout } = shape;
  const size = c.conv(cin, cin, kernel, shape.stride, shape.inputSize, cin);
  c.bn(cin, size);
  c.squeezeExcite(cin, size, seRatio);
  c.conv(cin, cout, 1, 1, size);
  c.bn(cout, size);
  return c.result();
}

/** ConvBnAct: conv kxk stride s (no bias), BN. */
export function convBnCost(shape: LayerShape, kernel: number): Cost {
  const c = new CostCounter();
  const size = c.conv(shape.inChannels, shape.outChannels, kernel, shape.stride, shape.inputSize);
  c.bn(shape.outChannels, size);
  return c.result();
}
