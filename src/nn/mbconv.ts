import { add, type Tensor } from '../tensor/index.ts';
import type { Activation } from './activation.ts';
import { BatchNorm2d } from './batch-norm.ts';
import { convBn, pointwiseDepthwiseBn, seConvBn } from './conv-bn.ts';
import { Conv2d } from './conv2d.ts';
import type { InitRandom } from './init.ts';
import { Module } from './module.ts';
import { SqueezeExcite } from './squeeze-excite.ts';

export interface MBConvConfig {
  inChannels: number;
  outChannels: number;
  /** Expanded channels (make_divisible(in * expansion, 8)); equal to inChannels means no expansion conv. */
  midChannels: number;
  kernel: number;
  stride: number;
  /** SE reduced channels; 0 disables SE. */
  seChannels: number;
  act: Activation;
}

/**
 * Inverted residual (MobileNetV2/EfficientNet MBConv): pw 1x1 in->mid, BN, act; dw kxk, BN, act;
 * SE; pw 1x1 mid->out, BN; residual when stride 1 and in == out. Names follow timm.
 */
export class MBConv extends Module {
  readonly convPw: Conv2d | null;
  readonly bn1: BatchNorm2d | null;
  readonly convDw: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly se: SqueezeExcite | null;
  readonly convPwl: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly residual: boolean;

  constructor(
    readonly config: MBConvConfig,
    rng: InitRandom,
  ) {
    super();
    const { inChannels: cin, outChannels: cout, midChannels: mid, kernel, stride } = config;
    const expand = mid !== cin;
    this.convPw = expand ? this.registerModule('conv_pw', new Conv2d(cin, mid, 1, rng)) : null;
    this.bn1 = expand ? this.registerModule('bn1', new BatchNorm2d(mid)) : null;
    this.convDw = this.registerModule('conv_dw', new Conv2d(mid, mid, kernel, rng, { stride, groups: mid }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(mid));
    this.se = config.seChannels > 0 ? this.registerModule('se', new SqueezeExcite(mid, config.seChannels, rng)) : null;
    this.convPwl = this.registerModule('conv_pwl', new Conv2d(mid, cout, 1, rng));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(cout));
    this.residual = stride === 1 && cin === cout;
  }

  forward(x: Tensor): Tensor {
    const act = this.config.act;
    let y = x;
    if (this.convPw && this.bn1) y = pointwiseDepthwiseBn(this.convPw, this.bn1, this.convDw, this.bn2, y, act);
    else y = convBn(this.convDw, this.bn2, y, act);
    y = seConvBn(this.se, this.convPwl, this.bn3, y);
    return this.residual ? add(y, x) : y;
  }
}
