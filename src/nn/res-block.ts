import { add, type Tensor } from '../tensor/index.ts';
import { type Activation, activate } from './activation.ts';
import { BatchNorm2d } from './batch-norm.ts';
import { convBn } from './conv-bn.ts';
import { Conv2d } from './conv2d.ts';
import type { InitRandom } from './init.ts';
import { Module } from './module.ts';

/**
 * ResNet bottleneck (the `res_k{K}` choice of the `+resblock` spaces): 1x1 in->mid, BN, act; KxK
 * mid->mid stride s, BN, act; 1x1 mid->out, BN; plus a shortcut (identity, or 1x1 stride-s conv +
 * BN when the shape changes); act after the add.
 */
export class ResBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downConv: Conv2d | null;
  readonly downBn: BatchNorm2d | null;

  constructor(
    inChannels: number,
    outChannels: number,
    midChannels: number,
    kernel: number,
    stride: number,
    readonly act: Activation,
    rng: InitRandom,
  ) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, midChannels, 1, rng));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(midChannels));
    this.conv2 = this.registerModule('conv2', new Conv2d(midChannels, midChannels, kernel, rng, { stride }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(midChannels));
    this.conv3 = this.registerModule('conv3', new Conv2d(midChannels, outChannels, 1, rng));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(outChannels));
    const project = stride !== 1 || inChannels !== outChannels;
    this.downConv = project
      ? this.registerModule('downsample_conv', new Conv2d(inChannels, outChannels, 1, rng, { stride }))
      : null;
    this.downBn = project ? this.registerModule('downsample_bn', new BatchNorm2d(outChannels)) : null;
  }

  forward(x: Tensor): Tensor {
    let y = convBn(this.conv1, this.bn1, x, this.act);
    y = convBn(this.conv2, this.bn2, y, this.act);
    y = convBn(this.conv3, this.bn3, y);
    const shortcut = this.downConv && this.downBn ? convBn(this.downConv, this.downBn, x) : x;
    return activate(add(y, shortcut), this.act);
  }
}
