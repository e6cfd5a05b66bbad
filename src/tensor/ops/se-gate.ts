import { native } from '../native.ts';
import { shapeString, Tensor } from '../tensor.ts';
import { ACTIVATION_CODES } from './activation.ts';
import { float32, rank, shapeIs } from './check.ts';
import { gemmGrads } from './gemm-grads.ts';

/** Squeeze-excite's two small layers: wReduce [C, R], wExpand [R, C] (weights [in, out], as in linear). */
export interface SeGateWeights {
  wReduce: Tensor;
  bReduce: Tensor;
  wExpand: Tensor;
  bExpand: Tensor;
}

/** What the gate's forward pass keeps for its backward pass. */
export interface SeGate {
  pooled: Tensor;
  hidden: Tensor;
  /** The gates, [N, C]. */
  scale: Tensor;
}

export interface SeGateGrads {
  gPooled: Tensor | null;
  gwReduce: Tensor | null;
  gbReduce: Tensor | null;
  gwExpand: Tensor | null;
  gbExpand: Tensor | null;
}

const RELU = ACTIVATION_CODES.relu;
const HARD_SIGMOID = ACTIVATION_CODES.hardSigmoid;

/** Checks the weights against x [N, H, W, C] and returns R; errors name the op. */
export function checkSeGate(op: string, x: Tensor, weights: SeGateWeights): number {
  const { wReduce, bReduce, wExpand, bExpand } = weights;
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
  const C = x.shape[3];
  const R = wReduce.shape[1];
  if (x.size === 0) throw new Error(`${op}: x must not be empty, got shape ${shapeString(x.shape)}`);
  shapeIs(op, wReduce, [C, R], `wReduce (for x ${shapeString(x.shape)})`);
  shapeIs(op, bReduce, [R], 'bReduce');
  shapeIs(op, wExpand, [R, C], `wExpand (for wReduce ${shapeString(wReduce.shape)})`);
  shapeIs(op, bExpand, [C], 'bExpand');
  return R;
}

/**
 * The gates of x [N, H, W, C]: hardSigmoid(relu(mean_hw(x) wReduce + bReduce) wExpand + bExpand),
 * [N, C]. Untracked: the ops that scale by the gates record one node for the whole block.
 */
export function seGateForward(x: Tensor, weights: SeGateWeights): SeGate {
  const [N, H, W, C] = x.shape;
  const R = weights.wReduce.shape[1];
  const pooled = Tensor.empty([N, C]);
  native.globalAvgPool(x.f32, N, H * W, C, pooled.f32);
  const hidden = Tensor.empty([N, R]);
  native.gemmForward(pooled.f32, weights.wReduce.f32, weights.bReduce.f32, hidden.f32, N, C, R, true);
  native.actForward(RELU, hidden.f32, hidden.f32);
  const gateIn = Tensor.empty([N, C]);
  native.gemmForward(hidden.f32, weights.wExpand.f32, weights.bExpand.f32, gateIn.f32, N, R, C, true);
  const scale = Tensor.empty([N, C]);
  native.actForward(HARD_SIGMOID, gateIn.f32, scale.f32);
  gateIn.dispose();
  return { pooled, hidden, scale };
}

/**
 * Back from the gates' gradient gScale [N, C] (overwritten) through the two layers to the pooled
 * means; gPooled only when `wantPooled`, weight gradients for the weights that require them.
 */
export function seGateBackward(gate: SeGate, weights: SeGateWeights, gScale: Tensor, wantPooled: boolean): SeGateGrads {
  const { pooled, hidden, scale } = gate;
  const [N, C] = scale.shape;
  const R = hidden.shape[1];
  native.actBackward(HARD_SIGMOID, scale.f32, gScale.f32, gScale.f32, true);
  const [gHidden, gwExpand, gbExpand] = gemmGrads(hidden, weights.wExpand, weights.bExpand, gScale, N, R, C, true);
  if (!gHidden) throw new Error('seGateBackward: no hidden gradient');
  native.actBackward(RELU, hidden.f32, gHidden.f32, gHidden.f32, true);
  const [gPooled, gwReduce, gbReduce] = gemmGrads(
    pooled,
    weights.wReduce,
    weights.bReduce,
    gHidden,
    N,
    C,
    R,
    wantPooled,
  );
  gHidden.dispose();
  return { gPooled, gwReduce, gbReduce, gwExpand, gbExpand };
}

export function disposeSeGate(gate: SeGate): void {
  for (const t of [gate.pooled, gate.hidden, gate.scale]) t.dispose();
}
