import { linear, Tensor as T, type Tensor } from '../tensor/index.ts';
import { convInit, type InitRandom, linearInit } from './init.ts';
import { Module } from './module.ts';

/** y = x W + b with W stored [in, out]. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: InitRandom,
    opts: {
      bias?: boolean /** 'conv': init as a 1x1 conv (SE layers, head conv on pooled features). */;
      init?: 'linear' | 'conv';
    } = {},
  ) {
    super();
    const shape = [inFeatures, outFeatures];
    const w = opts.init === 'conv' ? convInit(shape, outFeatures, rng) : linearInit(shape, outFeatures, rng);
    this.weight = this.registerParameter('weight', w);
    this.bias = opts.bias === false ? null : this.registerParameter('bias', T.zeros([outFeatures]));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }
}
