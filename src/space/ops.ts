/**
 * Operations a searchable layer can choose, parsed from their names.
 *
 * | name        | kind       | block                                                                           |
 * |-------------|------------|---------------------------------------------------------------------------------|
 * | `k{K}e{E}`  | `mbconv`   | MBConv: [pw 1x1 in->mid, BN, act] (absent when E = 1), dw KxK stride s, BN, act, |
 * |             |            | SE, pw 1x1 mid->out, BN; residual when stride 1 and in == out. mid = in*E /8.    |
 * | `skip`      | `skip`     | identity (only where stride 1 and in == out, i.e. never a stage's first layer)   |
 * | `res_k{K}`  | `resblock` | ResNet bottleneck: 1x1 in->mid, BN, act; KxK mid->mid stride s, BN, act;        |
 * |             |            | 1x1 mid->out, BN; + shortcut (identity, or 1x1 stride-s conv + BN when the      |
 * |             |            | shape changes); act after the add. mid = make_divisible(out / 4, 8).             |
 * | `conv{K}`   | `conv`     | plain KxK conv stride s in->out, BN, act (no residual)                          |
 *
 * Convs are bias-free (a BN follows each); SE convs have biases. See cost.ts for the counting rules.
 */
import { SpaceError } from './errors.ts';

export interface MBConvOp {
  kind: 'mbconv';
  name: string;
  kernel: number;
  expansion: number;
}
export interface SkipOp {
  kind: 'skip';
  name: 'skip';
}
export interface ResBlockOp {
  kind: 'resblock';
  name: string;
  kernel: number;
  /** Bottleneck reduction: mid = make_divisible(out / reduction, 8). Always 4 (ResNet). */
  reduction: number;
}
export interface ConvOp {
  kind: 'conv';
  name: string;
  kernel: number;
}
export type OpSpec = MBConvOp | SkipOp | ResBlockOp | ConvOp;

const MB_KERNELS = [3, 5, 7];
const OTHER_KERNELS = [1, 3, 5, 7];
const MAX_EXPANSION = 16;

const MBCONV_RE = /^k(\d+)e(\d+)$/;
const RES_RE = /^res_k(\d+)$/;
const CONV_RE = /^conv(\d+)$/;

export const OP_NAME_HELP = `k{3,5,7}e{1..${MAX_EXPANSION}} (MBConv), skip, res_k{1,3,5,7} (bottleneck), conv{1,3,5,7}`;

const cache = new Map<string, OpSpec>();

/** Parse an op name (`k5e6`, `skip`, `res_k3`, `conv5`); throws a SpaceError naming the accepted forms. */
export function parseOp(name: string): OpSpec {
  const hit = cache.get(name);
  if (hit) return hit;
  const op = Object.freeze(parseOpUncached(name));
  cache.set(name, op);
  return op;
}

function parseOpUncached(name: string): OpSpec {
  if (typeof name !== 'string') throw new SpaceError(`op must be a string, got ${JSON.stringify(name)}`);
  if (name === 'skip') return { kind: 'skip', name: 'skip' };
  let m = MBCONV_RE.exec(name);
  if (m) {
    const kernel = Number(m[1]);
    const expansion = Number(m[2]);
    if (!MB_KERNELS.includes(kernel)) {
      throw new SpaceError(`op "${name}": MBConv kernel must be one of ${MB_KERNELS.join(', ')}, got ${kernel}`);
    }
    if (expansion < 1 || expansion > MAX_EXPANSION || String(expansion) !== m[2]) {
      throw new SpaceError(`op "${name}": MBConv expansion must be an integer 1..${MAX_EXPANSION}, got ${m[2]}`);
    }
    return { kind: 'mbconv', name, kernel, expansion };
  }
  m = RES_RE.exec(name);
  if (m) return { kind: 'resblock', name, kernel: checkKernel(name, m[1]), reduction: 4 };
  m = CONV_RE.exec(name);
  if (m) return { kind: 'conv', name, kernel: checkKernel(name, m[1]) };
  throw new SpaceError(`unknown op "${name}": expected ${OP_NAME_HELP}`);
}

function checkKernel(name: string, text: string): number {
  const k = Number(text);
  if (!OTHER_KERNELS.includes(k) || String(k) !== text) {
    throw new SpaceError(`op "${name}": kernel must be one of ${OTHER_KERNELS.join(', ')}, got ${text}`);
  }
  return k;
}

/** Whether `name` parses as an op. */
export function isOpName(name: string): boolean {
  try {
    parseOp(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * timm/TF channel rounding: nearest multiple of `divisor` (at least `divisor`), bumped up one
 * step when rounding down lost more than 10%.
 */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** Output size of a conv/pool with kernel k, stride s and padding k//2 ("same" for odd k). */
export function convOutputSize(size: number, kernel: number, stride: number): number {
  const pad = Math.floor(kernel / 2);
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}
