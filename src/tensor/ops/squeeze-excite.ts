import { native } from '../native.ts';
import { needsGrad, record } from '../tape.ts';
import { shapeString, Tensor } from '../tensor.ts';
import { ACTIVATION_CODES } from './activation.ts';
import { float32, rank, shapeIs } from './check.ts';
import { gemmGrads } from './gemm-grads.ts';

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
  const op = 'squeezeExcite';
  rank(op, x, 4, 'x');
  rank(op, wReduce, 2, 'wReduce');
  for (const [t, name] of [
    [x, 'x'],
    [wReduce, 'wReduce'],
    [bReduce, 'bReduce'],
    [wExpand, 'wExpand'],
    [bExpand, 'bExpand'],
  ] as const) {
    float32(op, t, name);
  }
  const [N, H, W, C] = x.shape;
  const R = wReduce.shape[1];
  if (x.size === 0) throw new Error(`${op}: x must not be empty, got shape ${shapeString(x.shape)}`);
  shapeIs(op, wReduce, [C, R], `wReduce (for x ${shapeString(x.shape)})`);
  shapeIs(op, bReduce, [R], 'bReduce');
  shapeIs(op, wExpand, [R, C], `wExpand (for wReduce ${shapeString(wReduce.shape)})`);
  shapeIs(op, bExpand, [C], 'bExpand');
  const HW = H * W;
  const relu = ACTIVATION_CODES.relu;
  const gate = ACTIVATION_CODES.hardSigmoid;

  const pooled = Tensor.empty([N, C]);
  native.globalAvgPool(x.f32, N, HW, C, pooled.f32);
  const hidden = Tensor.empty([N, R]);
  native.gemmForward(pooled.f32, wReduce.f32, bReduce.f32, hidden.f32, N, C, R, true);
  native.actForward(relu, hidden.f32, hidden.f32);
  const gateIn = Tensor.empty([N, C]);
  native.gemmForward(hidden.f32, wExpand.f32, bExpand.f32, gateIn.f32, N, R, C, true);
  const scale = Tensor.empty([N, C]);
  native.actForward(gate, gateIn.f32, scale.f32);
  gateIn.dispose();
  const out = Tensor.empty(x.shape);
  native.mulChannel(x.f32, scale.f32, N, HW, C, out.f32);
  const inputs = [x, wReduce, bReduce, wExpand, bExpand];
  if (!needsGrad(inputs)) {
    for (const t of [pooled, hidden, scale]) t.dispose();
    return out;
  }
  return record(op, out, inputs, (g) => {
    // Back through the scaling to the gate, then the two layers, to the pooled means.
    const gScale = Tensor.empty([N, C]);
    native.mulChannelGradScale(g.f32, x.f32, N, HW, C, gScale.f32);
    native.actBackward(gate, scale.f32, gScale.f32, gScale.f32, true);
    const [gHidden, gwExpand, gbExpand] = gemmGrads(hidden, wExpand, bExpand, gScale, N, R, C, true);
    if (!gHidden) throw new Error('squeezeExcite: no hidden gradient');
    native.actBackward(relu, hidden.f32, gHidden.f32, gHidden.f32, true);
    const [gPooled, gwReduce, gbReduce] = gemmGrads(pooled, wReduce, bReduce, gHidden, N, C, R, x.requiresGrad);
    let gx: Tensor | null = null;
    if (gPooled) {
      gx = Tensor.empty(x.shape);
      native.seInputGrad(g.f32, scale.f32, gPooled.f32, N, HW, C, gx.f32);
      gPooled.dispose();
    }
    gScale.dispose();
    gHidden.dispose();
    return [gx, gwReduce, gbReduce, gwExpand, gbExpand];
  });
}
