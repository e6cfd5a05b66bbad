import { native } from '../native.ts';
import { needsGrad, record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { checkSeGate, disposeSeGate, seGateBackward, seGateForward } from './se-gate.ts';

/**
 * Squeeze-and-excite as one op: y = x * hardSigmoid(relu(mean_hw(x) . wReduce + bReduce) . wExpand
 * + bExpand), for x [N, H, W, C], wReduce [C, R], wExpand [R, C] (weights [in, out], as in linear).
 *
 * The same kernels and rounding as composing globalAvgPool, linear, relu, linear, hardSigmoid and
 * mulChannel, with one difference in the backward pass: x feeds both the pooling and the scaling, and
 * composed, each produced a full-size gradient for x that the tape then added (three full-size passes
 * more than needed). Here one kernel writes gx = g * s + (pooled gradient) / HW directly.
 */
export function squeezeExcite(x: Tensor, wReduce: Tensor, bReduce: Tensor, wExpand: Tensor, bExpand: Tensor): Tensor {
  const weights = { wReduce, bReduce, wExpand, bExpand };
  checkSeGate('squeezeExcite', x, weights);
  const [N, H, W, C] = x.shape;
  const HW = H * W;
  const gate = seGateForward(x, weights);
  const out = Tensor.empty(x.shape);
  native.mulChannel(x.f32, gate.scale.f32, N, HW, C, out.f32);
  const inputs = [x, wReduce, bReduce, wExpand, bExpand];
  if (!needsGrad(inputs)) {
    disposeSeGate(gate);
    return out;
  }
  return record('squeezeExcite', out, inputs, (g) => {
    // Back through the scaling to the gate, then the two layers, to the pooled means.
    const gScale = Tensor.empty([N, C]);
    native.mulChannelGradScale(g.f32, x.f32, N, HW, C, gScale.f32);
    const grads = seGateBackward(gate, weights, gScale, x.requiresGrad);
    gScale.dispose();
    let gx: Tensor | null = null;
    if (grads.gPooled) {
      gx = Tensor.empty(x.shape);
      native.seInputGrad(g.f32, gate.scale.f32, grads.gPooled.f32, N, HW, C, gx.f32);
      grads.gPooled.dispose();
    }
    return [gx, grads.gwReduce, grads.gbReduce, grads.gwExpand, grads.gbExpand];
  });
}
