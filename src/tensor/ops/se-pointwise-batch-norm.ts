import { native } from '../native.ts';
import { needsGrad, record } from '../tape.ts';
import { Tensor } from '../tensor.ts';
import { dataOrEmpty, FusedBatchNorm } from './fused-batch-norm.ts';
import { checkPointwiseBatchNorm } from './pointwise-batch-norm.ts';
import { checkSeGate, disposeSeGate, type SeGateWeights, seGateBackward, seGateForward } from './se-gate.ts';

export interface SePointwiseBatchNormOptions {
  /** Weight of the new batch statistic in the running average (PyTorch's convention). */
  momentum?: number;
  eps?: number;
}

/**
 * Training-mode batchNorm(conv2d(squeezeExcite(x), w)) for a 1x1, stride-1, unpadded, bias-free
 * conv, the tail of an MBConv block: x [N, H, W, C], w [1, 1, C, Cout], squeeze-excite's weights as
 * in `squeezeExcite`. The same result, running-statistics update and gradients as the two ops, but
 * squeeze-excite's output is never written: the conv scales each L2-sized block of x by its image's
 * gates on the way into its GEMM, and backward reads x once and writes its gradient once (six passes
 * over [N, H, W, C] fewer per training step; native/src/se_pointwise_bn.cc).
 */
export function sePointwiseBatchNorm(
  x: Tensor,
  se: SeGateWeights,
  w: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: SePointwiseBatchNormOptions = {},
): Tensor {
  const op = 'sePointwiseBatchNorm';
  const { momentum = 0.1, eps = 1e-5 } = opts;
  checkSeGate(op, x, se);
  const params = { gamma, beta, runningMean, runningVar };
  const bnOpts = { momentum, eps, act: 'none' as const };
  const { m, cin, cout, outShape } = checkPointwiseBatchNorm(op, x, w, params, bnOpts);
  const [n, h, wd] = x.shape;
  const hw = h * wd;
  const gate = seGateForward(x, se);
  const bn = new FusedBatchNorm(params, outShape, bnOpts);
  native.pointwiseBnForward(x.f32, w.f32, m, cin, cout, ...bn.forwardArgs(), gate.scale.f32, hw);
  const inputs = [x, se.wReduce, se.bReduce, se.wExpand, se.bExpand, w, gamma, beta];
  if (!needsGrad(inputs)) {
    bn.disposeSaved();
    disposeSeGate(gate);
    return bn.out;
  }
  bn.snapshot();
  return record(op, bn.out, inputs, (g) => {
    const gw = w.requiresGrad ? Tensor.empty(w.shape) : null;
    const { gGamma, gBeta } = bn.affineGradBuffers();
    const seWeights = [se.wReduce, se.bReduce, se.wExpand, se.bExpand];
    const gScale = x.requiresGrad || seWeights.some((t) => t.requiresGrad) ? Tensor.empty([n, cin]) : null;
    const sums = new Float64Array(2 * cout);
    native.sePointwiseBnBackwardWeights(
      x.f32,
      w.f32,
      bn.z.f32,
      g.f32,
      m,
      cin,
      cout,
      hw,
      gate.scale.f32,
      ...bn.savedArgs(),
      dataOrEmpty(gw),
      dataOrEmpty(gGamma),
      dataOrEmpty(gBeta),
      dataOrEmpty(gScale),
      sums,
    );
    const seGrads = gScale ? seGateBackward(gate, se, gScale, x.requiresGrad) : null;
    gScale?.dispose();
    let gx: Tensor | null = null;
    if (seGrads?.gPooled) {
      gx = Tensor.empty(x.shape);
      native.sePointwiseBnBackwardInput(
        w.f32,
        bn.z.f32,
        g.f32,
        m,
        cin,
        cout,
        hw,
        gate.scale.f32,
        seGrads.gPooled.f32,
        ...bn.savedArgs(),
        sums,
        gx.f32,
      );
      seGrads.gPooled.dispose();
    }
    return [
      gx,
      seGrads?.gwReduce ?? null,
      seGrads?.gbReduce ?? null,
      seGrads?.gwExpand ?? null,
      seGrads?.gbExpand ?? null,
      gw,
      gGamma,
      gBeta,
    ];
  });
}
