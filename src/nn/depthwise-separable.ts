import { add, type Tensor } from '../tensor/index.ts';
import type { Activation } from './activation.ts';
import { BatchNorm2d } from './batch-norm.ts';
import { convBn, seConvBn } from './conv-bn.ts';
import { Conv2d } from './conv2d.ts';
import type { InitRandom } from './init.ts';
import { Module } from './module.ts';
import { SqueezeExcite } from './squeeze-excite.ts';

/** Stage 0 of the Cream spaces: dw kxk, BN, act, SE, pw 1x1, BN; residual when shapes allow. */
export class DepthwiseSeparable extends Module {
  readonly convDw: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly se: SqueezeExcite | null;
  readonly convPw: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly residual: boolean;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    rng: InitRandom,
    readonly opts: { kernel?: number; stride?: number; seChannels?: number; act?: Activation } = {},
  ) {
    super();
    const stride = opts.stride ?? 1;
    this.convDw = this.registerModule(
      'conv_dw',
      new Conv2d(inChannels, inChannels, opts.kernel ?? 3, rng, { stride, groups: inChannels }),
    );
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inChannels));
    const se = opts.seChannels ?? 0;
    this.se = se > 0 ? this.registerModule('se', new SqueezeExcite(inChannels, se, rng)) : null;
    this.convPw = this.registerModule('conv_pw', new Conv2d(inChannels, outChannels, 1, rng));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outChannels));
    this.residual = stride === 1 && inChannels === outChannels;
  }

  forward(x: Tensor): Tensor {
    let y = convBn(this.convDw, this.bn1, x, this.opts.act ?? 'swish');
    y = seConvBn(this.se, this.convPw, this.bn2, y);
    return this.residual ? add(y, x) : y;
  }
}
