import { hardSigmoid, mul, relu, relu6, swish, type Tensor } from '../tensor/index.ts';

/** Activations of the search spaces. BN fuses all but `hswish` into its kernel. */
export type Activation = 'none' | 'relu' | 'relu6' | 'swish' | 'hswish';
export type FusedActivation = Exclude<Activation, 'hswish'>;

export function activate(x: Tensor, act: Activation): Tensor {
  switch (act) {
    case 'none':
      return x;
    case 'relu':
      return relu(x);
    case 'relu6':
      return relu6(x);
    case 'swish':
      return swish(x);
    case 'hswish':
      return mul(x, hardSigmoid(x));
  }
}
