import { globalAvgPool, hardSigmoid, mulChannel, relu, squeezeExcite, type Tensor } from '../tensor/index.ts';
import type { InitRandom } from './init.ts';
import { Linear } from './linear.ts';
import { Module } from './module.ts';

/**
 * Squeeze-and-excite of the Cream/timm MobileNet blocks: global average pool, 1x1 conv to
 * `reduced` channels (bias) + ReLU, 1x1 conv back (bias), hard-sigmoid gate, channel scaling. The
 * 1x1 convs act on pooled [N, C] vectors, so they are linear layers with conv initialisation.
 */
export class SqueezeExcite extends Module {
  readonly convReduce: Linear;
  readonly convExpand: Linear;

  constructor(channels: number, reduced: number, rng: InitRandom) {
    super();
    this.convReduce = this.registerModule('conv_reduce', new Linear(channels, reduced, rng, { init: 'conv' }));
    this.convExpand = this.registerModule('conv_expand', new Linear(reduced, channels, rng, { init: 'conv' }));
  }

  forward(x: Tensor): Tensor {
    const { convReduce: reduce, convExpand: expand } = this;
    // One op (one pass fewer over x's gradient); the composition below is the same maths.
    if (reduce.bias && expand.bias) return squeezeExcite(x, reduce.weight, reduce.bias, expand.weight, expand.bias);
    const s = relu(this.convReduce.forward(globalAvgPool(x)));
    return mulChannel(x, hardSigmoid(this.convExpand.forward(s)));
  }
}
