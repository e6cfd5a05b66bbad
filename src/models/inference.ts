// The inference fast path: runs the folded op list of inference-graph.ts on the native kernels
// without the tape, in buffers allocated once per batch size and reused by every later call.
import type { Activation } from '../nn/index.ts';
import { native, Tensor } from '../tensor/index.ts';
import type { ChildNetwork } from './child-network.ts';
import {
  type AddOp,
  type ConvOp,
  foldNetwork,
  type InferenceGraph,
  type InferenceOp,
  type SqueezeExciteOp,
} from './inference-graph.ts';

const EMPTY = new Float32Array(0);
const ACT_CODE = { none: 0, relu: 1, relu6: 2, swish: 3, sigmoid: 4, hardSigmoid: 5 } as const;

type Step = (values: Float32Array[]) => void;

/** Pixels (batch x height x width) up to which a 1x1 conv runs our fused kernel by default. */
const FUSED_POINTWISE_MAX_PIXELS = 4096;
/** ...and weights (in x out) up to which: 256 KiB, half of this machine's L2. */
const FUSED_POINTWISE_MAX_WEIGHTS = 64 * 1024;

interface CompiledPlan {
  steps: Step[];
  /** The op each step belongs to (profiling). */
  labels: string[];
  /** Slot per value; slot 0 is the input, bound at each call. */
  values: Float32Array[];
  outputSlot: number;
  inputLength: number;
  /** The kernel chosen for each conv op (`name: candidate`). */
  choices: string[];
}

export interface InferenceOptions {
  /**
   * When a batch size is first run, time the alternative kernels of each convolution on its shape
   * (oneDNN vs our GEMM / depthwise kernels) and keep the fastest. Default false: fixed choices,
   * so results do not depend on timing noise.
   */
  tune?: boolean;
  /**
   * Run every convolution that has a kernel of this name (see `kernelChoices`) with it, the others
   * with their default: to check or time one kernel on its own.
   */
  kernel?: string;
}

/** Hands out buffers, reusing those whose values are dead (best fit), so activations stay in cache. */
class BufferArena {
  private free: Float32Array[] = [];
  take(length: number): Float32Array {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const n = this.free[i].length;
      if (n >= length && (best < 0 || n < this.free[best].length)) best = i;
    }
    const buf = best >= 0 ? this.free.splice(best, 1)[0] : new Float32Array(length);
    return buf.length === length ? buf : buf.subarray(0, length);
  }
  give(view: Float32Array): void {
    this.free.push(new Float32Array(view.buffer, 0, view.buffer.byteLength / 4));
  }
}

/**
 * A child network folded for inference: `run` computes logits with no tape and no allocation after
 * the first call of each batch size (its buffers are kept and reused).
 */
export class InferenceNetwork {
  private readonly plans = new Map<number, CompiledPlan>();

  constructor(
    readonly graph: InferenceGraph,
    readonly options: InferenceOptions = {},
  ) {}

  static fromNetwork(net: ChildNetwork, options: InferenceOptions = {}): InferenceNetwork {
    return new InferenceNetwork(foldNetwork(net), options);
  }

  /**
   * Compiles the plan for this batch size now (with `tune`, timing the kernels of each convolution),
   * so that the first `run` at this size does no set-up: call it before timing inference.
   */
  prepare(batch: number): void {
    this.plan(batch);
  }

  /** The kernel used for each convolution at this batch size (compiles the plan if needed). */
  kernelChoices(batch: number): string[] {
    return [...this.plan(batch).choices];
  }

  /**
   * Logits [batch, classes] of `x` (NHWC, batch images). The returned array is an internal buffer,
   * overwritten by the next call with the same batch size: copy it to keep it.
   */
  run(x: Float32Array, batch: number): Float32Array {
    const plan = this.plan(batch);
    if (x.length !== plan.inputLength) {
      const [h, w, c] = this.graph.inputShape;
      throw new Error(
        `InferenceNetwork.run: x has ${x.length} values, batch ${batch} of [${h}, ${w}, ${c}] needs ${plan.inputLength}`,
      );
    }
    const values = plan.values;
    values[0] = x;
    // The kernels defer signals while inside oneDNN (native/src/signal_guard.h); deferring once
    // around the whole run saves two syscalls per op. A signal waits at most one inference.
    native.deferSignals(true);
    try {
      for (const step of plan.steps) step(values);
    } finally {
      native.deferSignals(false);
    }
    values[0] = EMPTY;
    return values[plan.outputSlot];
  }

  /**
   * Milliseconds per op (median over `runs` calls on `x`), in execution order: where the time of
   * `run` goes. Fused ops appear under one name (`conv+add`).
   */
  profile(x: Float32Array, batch: number, runs = 50): { op: string; ms: number }[] {
    this.run(x, batch);
    const plan = this.plan(batch);
    const times = plan.steps.map(() => [] as number[]);
    const values = plan.values;
    for (let r = 0; r < runs; r++) {
      values[0] = x;
      plan.steps.forEach((step, i) => {
        const t0 = performance.now();
        step(values);
        times[i].push(performance.now() - t0);
      });
      values[0] = EMPTY;
    }
    const out: { op: string; ms: number }[] = [];
    plan.labels.forEach((label, i) => {
      const sorted = times[i].sort((a, b) => a - b);
      const ms = sorted[sorted.length >> 1];
      const last = out[out.length - 1];
      if (last?.op === label) last.ms += ms;
      else out.push({ op: label, ms });
    });
    return out;
  }

  /** Logits as a new tensor, for x [N, H, W, C]. */
  forward(x: Tensor): Tensor {
    const [h, w, c] = this.graph.inputShape;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c) {
      throw new Error(`InferenceNetwork.forward: x must be [N, ${h}, ${w}, ${c}], got [${x.shape.join(', ')}]`);
    }
    return Tensor.from(this.run(x.f32, x.shape[0]), [x.shape[0], this.graph.classes]);
  }

  /** Forgets the buffers of every batch size. */
  release(): void {
    this.plans.clear();
  }

  private plan(batch: number): CompiledPlan {
    let p = this.plans.get(batch);
    if (!p) {
      if (!Number.isInteger(batch) || batch < 1)
        throw new Error(`InferenceNetwork.run: batch must be a positive integer, got ${batch}`);
      p = compile(this.graph, batch, this.options);
      this.plans.set(batch, p);
    }
    return p;
  }
}

function opInputs(op: InferenceOp): string[] {
  return op.kind === 'add' ? op.inputs : [op.input];
}

function compile(g: InferenceGraph, n: number, options: InferenceOptions): CompiledPlan {
  const tune = options.tune ?? false;
  const [h0, w0, c0] = g.inputShape;
  const slots = new Map<string, number>([[g.input, 0]]);
  const shapes = new Map<string, number[]>([[g.input, [n, h0, w0, c0]]]);
  // While compiling, the input slot holds zeros (tuning runs ops on it).
  const values: Float32Array[] = [new Float32Array(n * h0 * w0 * c0)];
  const lastUse = new Map<string, number>();
  g.ops.forEach((op, i) => {
    for (const v of opInputs(op)) lastUse.set(v, i);
  });
  lastUse.set(g.output, Number.POSITIVE_INFINITY);
  const arena = new BufferArena();
  const owner = new Map<number, string>(); // slot -> value that owns its buffer now
  const steps: Step[] = [];
  const labels: string[] = [];
  const choices: string[] = [];
  const emit = (label: string, ...s: Step[]): void => {
    for (const step of s) {
      steps.push(step);
      labels.push(label);
    }
  };

  const slotOf = (v: string): number => {
    const s = slots.get(v);
    if (s === undefined) throw new Error(`inference graph: value ${v} is read before it is written`);
    return s;
  };
  const define = (v: string, shape: number[], reuse?: string): number => {
    let slot: number;
    if (reuse !== undefined) {
      slot = slotOf(reuse);
    } else {
      slot = values.length;
      values.push(arena.take(shape.reduce((a, b) => a * b, 1)));
    }
    owner.set(slot, v);
    slots.set(v, slot);
    shapes.set(v, shape);
    return slot;
  };
  /** An input that dies at op i and owns a buffer of its own may be overwritten by the op's output. */
  const reusable = (v: string, i: number): boolean =>
    v !== g.input && lastUse.get(v) === i && owner.get(slotOf(v)) === v;
  /** `conv` is a 1x1 stride-1 conv read only by the residual `add` right after it, whose other input may be overwritten. */
  const residualFusable = (conv: ConvOp, add: AddOp, i: number): boolean => {
    if (conv.depthwise || conv.kernel !== 1 || conv.stride !== 1 || conv.padding !== 0 || conv.act !== 'none')
      return false;
    if (add.act === 'hswish' || !add.inputs.includes(conv.output) || lastUse.get(conv.output) !== i + 1) return false;
    const other = add.inputs[0] === conv.output ? add.inputs[1] : add.inputs[0];
    return other !== conv.output && reusable(other, i + 1);
  };

  /** Buffers of values read for the last time by op i go back to the arena (unless an output took them). */
  const release = (op: InferenceOp, i: number): void => {
    for (const v of new Set(opInputs(op))) {
      const s = slotOf(v);
      if (v !== g.input && lastUse.get(v) === i && owner.get(s) === v) {
        arena.give(values[s]);
        owner.delete(s);
      }
    }
  };

  for (let i = 0; i < g.ops.length; i++) {
    const op = g.ops[i];
    const next = g.ops[i + 1];
    if (op.kind === 'conv' && next?.kind === 'add' && residualFusable(op, next, i)) {
      // A 1x1 projection followed by the residual add: the GEMM accumulates onto the shortcut's
      // buffer (beta = 1), then one pass adds the bias and applies the add's activation.
      const other = next.inputs[0] === op.output ? next.inputs[1] : next.inputs[0];
      const [nn, h, w, cin] = shapes.get(op.input)!;
      const m = nn * h * w;
      const cout = op.outChannels;
      const src = slotOf(op.input);
      const acc = define(next.output, [nn, h, w, cout], other);
      slots.set(op.output, acc);
      const gemm: Step = (v) =>
        native.sgemm(false, false, m, cout, cin, 1, v[src], cin, op.weight, cout, 1, v[acc], cout);
      emit(`${op.name}+${next.name}`, biasActStep(gemm, op.bias, next.act, acc, [nn, h, w, cout]));
      choices.push(`${op.name}: gemm+residual`);
      release(op, i);
      release(next, i + 1);
      i++;
      continue;
    }
    if (op.kind === 'conv') {
      const candidates = convCandidates(op, slotOf(op.input), shapes.get(op.input)!, define);
      const forced = candidates.find((c) => c.name === options.kernel);
      const chosen = forced ?? (tune && candidates.length > 1 ? fastest(candidates, values) : candidates[0]);
      choices.push(`${op.name}: ${chosen.name}`);
      emit(op.name, ...chosen.steps);
    } else if (op.kind === 'se') {
      const shape = shapes.get(op.input)!;
      emit(
        op.name,
        seStep(op, slotOf(op.input), shape, define(op.output, shape, reusable(op.input, i) ? op.input : undefined)),
      );
    } else if (op.kind === 'add') {
      const [a, b] = op.inputs;
      const sa = slotOf(a);
      const sb = slotOf(b);
      const into = reusable(a, i) ? a : reusable(b, i) ? b : undefined;
      const out = define(op.output, shapes.get(a)!, into);
      emit(op.name, (v) => native.add(v[sa], v[sb], v[out]));
      const act = activationStep(op.act, out, shapes.get(a)!);
      if (act) emit(op.name, act);
    } else if (op.kind === 'pool') {
      const [, hh, ww, cc] = shapes.get(op.input)!;
      const src = slotOf(op.input);
      const out = define(op.output, [n, cc]);
      emit(op.name, (v) => native.globalAvgPool(v[src], n, hh * ww, cc, v[out]));
    } else {
      const src = slotOf(op.input);
      const out = define(op.output, [n, op.outFeatures]);
      emit(
        op.name,
        biasActStep(
          (v) => native.gemmForward(v[src], op.weight, EMPTY, v[out], n, op.inFeatures, op.outFeatures, false),
          op.bias,
          op.act,
          out,
          [n, op.outFeatures],
        ),
      );
    }
    release(op, i);
  }
  values[0] = EMPTY;
  return { steps, labels, values, outputSlot: slotOf(g.output), inputLength: n * h0 * w0 * c0, choices };
}

type Define = (v: string, shape: number[], reuse?: string) => number;

interface Candidate {
  name: string;
  steps: Step[];
}

/** The ways to run one conv op; the first is the default, `tune` times them all. */
function convCandidates(op: ConvOp, src: number, inShape: number[], define: Define): Candidate[] {
  const [n, h, w, cin] = inShape;
  const { kernel: k, stride, padding: pad, outChannels: cout } = op;
  const ho = Math.floor((h + 2 * pad - k) / stride) + 1;
  const wo = Math.floor((w + 2 * pad - k) / stride) + 1;
  const shape = [n, ho, wo, cout];
  const out = define(op.output, shape);
  const groups = op.depthwise ? cin : 1;
  // oneDNN adds the bias inside the convolution, so only the activation is left.
  const onednn: Step = (v) =>
    native.convForward(v[src], op.weight, op.bias, v[out], n, h, w, cin, cout, k, k, stride, pad, groups, true);
  const act = activationStep(op.act, out, shape);
  const viaOnednn = { name: 'onednn', steps: act ? [onednn, act] : [onednn] };
  if (op.depthwise) {
    const dw: Step = (v) => native.depthwiseForward(v[src], op.weight, v[out], n, h, w, cin, k, k, stride, pad, pad);
    return [{ name: 'depthwise+bias-act', steps: [biasActStep(dw, op.bias, op.act, out, shape)] }, viaOnednn];
  }
  if (k === 1 && stride === 1 && pad === 0) {
    const m = n * h * w;
    const gemm: Step = (v) => native.gemmForward(v[src], op.weight, EMPTY, v[out], m, cin, cout, false);
    const gemmBias: Step = (v) => native.gemmForward(v[src], op.weight, op.bias, v[out], m, cin, cout, true);
    const candidates: Candidate[] = [
      { name: 'gemm+bias-act', steps: [biasActStep(gemm, op.bias, op.act, out, shape)] },
      viaOnednn,
      { name: 'gemm-bias+act', steps: act ? [gemmBias, act] : [gemmBias] },
    ];
    if (op.act === 'hswish') return candidates;
    // Our register-tiled kernel: bias and activation applied before the single store. It streams
    // the weights once per 6 pixels, so it is the default only for few pixels (small batches,
    // where the GEMM call's overhead and the extra pass dominate) and weights that stay in L2.
    const code = ACT_CODE[op.act];
    const fused = {
      name: 'pointwise-fused',
      steps: [(v) => native.pointwiseAct(v[src], op.weight, op.bias, v[out], m, cin, cout, code)],
    } satisfies Candidate;
    return m <= FUSED_POINTWISE_MAX_PIXELS && cin * cout <= FUSED_POINTWISE_MAX_WEIGHTS
      ? [fused, ...candidates]
      : [...candidates, fused];
  }
  return [viaOnednn];
}

/**
 * The fastest candidate on this machine: the best of several timed runs each, the candidates taking
 * turns so that a burst of load from other processes does not favour one (the input is zeros).
 */
function fastest(candidates: Candidate[], values: Float32Array[]): Candidate {
  const runs = candidates.map((c) => () => {
    for (const s of c.steps) s(values);
  });
  for (const run of runs) for (let i = 0; i < 3; i++) run();
  const best = candidates.map(() => Number.POSITIVE_INFINITY);
  for (let r = 0; r < 9; r++) {
    runs.forEach((run, k) => {
      const t0 = performance.now();
      run();
      best[k] = Math.min(best[k], performance.now() - t0);
    });
  }
  return candidates[best.indexOf(Math.min(...best))];
}

/**
 * `run`, then y = act(y + bias) in one pass: the BN kernel in inference mode with mean 0, variance
 * 1, gamma 1 (and an epsilon too small to change 1/sqrt(1 + eps) from 1) is exactly that.
 */
function biasActStep(run: Step, bias: Float32Array | null, act: Activation, out: number, shape: number[]): Step {
  const c = shape[shape.length - 1];
  const ones = new Float32Array(c).fill(1);
  const zeros = new Float32Array(c);
  const beta = bias ?? zeros;
  const scratchMean = new Float32Array(c);
  const scratchInvstd = new Float32Array(c);
  const fused = act === 'hswish' ? 'none' : act;
  const code = ACT_CODE[fused];
  const hswish = act === 'hswish' ? activationStep('hswish', out, shape) : null;
  if (!bias && fused === 'none') {
    if (!hswish) return run;
    return (v) => {
      run(v);
      hswish(v);
    };
  }
  return (v) => {
    run(v);
    const y = v[out];
    native.bnForward(y, c, ones, beta, zeros, ones, false, 0, 1e-30, code, y, scratchMean, scratchInvstd);
    if (hswish) hswish(v);
  };
}

/** In-place activation of slot `out`, or null for 'none'. */
function activationStep(act: Activation, out: number, shape: number[]): Step | null {
  if (act === 'none') return null;
  if (act === 'hswish') {
    const gate = new Float32Array(shape.reduce((a, b) => a * b, 1));
    return (v) => {
      native.actForward(ACT_CODE.hardSigmoid, v[out], gate);
      native.mul(v[out], gate, v[out]);
    };
  }
  const code = ACT_CODE[act];
  return (v) => native.actForward(code, v[out], v[out]);
}

function seStep(op: SqueezeExciteOp, src: number, shape: number[], out: number): Step {
  const [n, h, w, c] = shape;
  // One native call for the whole block: at batch 1 its six steps cost more in call overhead than
  // in arithmetic.
  return (v) =>
    native.seInference(
      v[src],
      op.reduceWeight,
      op.reduceBias,
      op.expandWeight,
      op.expandBias,
      n,
      h * w,
      c,
      op.reduced,
      v[out],
    );
}
