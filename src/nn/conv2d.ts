import { conv2d, depthwiseConv2d, Tensor as T, type Tensor } from '../tensor/index.ts';
import { convInit, type InitRandom } from './init.ts';
import { Module } from './module.ts';

export interface Conv2dLayerOptions {
  stride?: number;
  /** Default: kernel // 2 ("same" for odd kernels at stride 1). */
  padding?: number;
  groups?: number;
  bias?: boolean;
}

/**
 * 2-D convolution, NHWC. Weight layout HWIO [k, k, in/groups, out]; a depthwise conv
 * (groups == in == out) stores [k, k, channels] and runs the hand-written depthwise kernels.
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;
  readonly groups: number;
  readonly depthwise: boolean;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    rng: InitRandom,
    opts: Conv2dLayerOptions = {},
  ) {
    super();
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? Math.floor(kernel / 2);
    this.groups = opts.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`Conv2d: groups ${this.groups} must divide in ${inChannels} and out ${outChannels} channels`);
    }
    this.depthwise = this.groups > 1 && this.groups === inChannels && inChannels === outChannels;
    const fanOut = (kernel * kernel * outChannels) / this.groups;
    const shape = this.depthwise
      ? [kernel, kernel, outChannels]
      : [kernel, kernel, inChannels / this.groups, outChannels];
    this.weight = this.registerParameter('weight', convInit(shape, fanOut, rng));
    this.bias = opts.bias ? this.registerParameter('bias', T.zeros([outChannels])) : null;
  }

  forward(x: Tensor): Tensor {
    if (this.depthwise) {
      const y = depthwiseConv2d(x, this.weight, { stride: this.stride as 1 | 2, padding: this.padding });
      if (this.bias) throw new Error('Conv2d: depthwise conv with bias is not supported');
      return y;
    }
    return conv2d(x, this.weight, {
      stride: this.stride,
      padding: this.padding,
      groups: this.groups,
      bias: this.bias ?? undefined,
    });
  }
}
