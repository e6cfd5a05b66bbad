// Shared plumbing of the activation ops: the codes the native kernels use, and one forward/backward
// wrapper. Each activation keeps the cheaper of its input or output for the backward pass.
import { native } from '../native.ts';
import { record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { float32 } from './check.ts';

/** Activation codes shared with native/src/activation_simd.h. */
export const ACTIVATION_CODES = { none: 0, relu: 1, relu6: 2, swish: 3, sigmoid: 4, hardSigmoid: 5 } as const;

export type ActivationName = keyof typeof ACTIVATION_CODES;

/**
 * y = act(x). `savesOutput` selects what backward reads: the output where it determines the
 * derivative (relu, relu6, sigmoid, hardSigmoid), else the input (swish).
 */
export function activation(name: ActivationName, x: Tensor, savesOutput: boolean): Tensor {
  float32(name, x, 'x');
  const code = ACTIVATION_CODES[name];
  const out = Tensor.empty(x.shape);
  native.actForward(code, x.f32, out.f32);
  return record(name, out, [x], (g) => {
    const gx = Tensor.empty(x.shape);
    native.actBackward(code, savesOutput ? out.f32 : x.f32, g.f32, gx.f32, savesOutput);
    return [gx];
  });
}
