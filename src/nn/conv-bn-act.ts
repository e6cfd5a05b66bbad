import type { Tensor } from '../tensor/index.ts';
import type { Activation } from './activation.ts';
import { BatchNorm2d } from './batch-norm.ts';
import { convBn } from './conv-bn.ts';
import { Conv2d } from './conv2d.ts';
import type { InitRandom } from './init.ts';
import { Module } from './module.ts';

/** conv (no bias) -> BN -> activation: the stem, the final 1x1 conv, plain conv choices. */
export class ConvBnAct extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;

  constructor(
    inChannels: number,
    outChannels: number,
    kernel: number,
    rng: InitRandom,
    readonly opts: { stride?: number; act?: Activation } = {},
  ) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(inChannels, outChannels, kernel, rng, { stride: opts.stride }));
    this.bn = this.registerModule('bn1', new BatchNorm2d(outChannels));
  }

  forward(x: Tensor): Tensor {
    return convBn(this.conv, this.bn, x, this.opts.act ?? 'swish');
  }
}
