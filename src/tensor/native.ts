// Loads the C++ addon built by node-gyp at `npm ci`. Kernels take typed arrays and plain numbers,
// write into output arrays the caller allocated, and return nothing: memory is owned by TypeScript.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

type KernelArg = Float32Array | Float64Array | Int32Array | Uint8Array | number | boolean;

/**
 * The addon's functions by name. Each kernel file in native/src registers its own; argument and
 * size checks happen on the C++ side, so a wrong call throws rather than reading garbage.
 */
export type NativeKernels = Record<string, (...args: KernelArg[]) => unknown>;

// CREAM_NATIVE_ADDON points at another build of the addon (e.g. a copy kept while rebuilding).
const addonPath =
  process.env.CREAM_NATIVE_ADDON ?? fileURLToPath(new URL('../../build/Release/cream_native.node', import.meta.url));

/**
 * Spin iterations an idle OpenMP thread waits for the next parallel region before sleeping (~12-18
 * ns each here: 20,000 spin ~0.3 ms). A worker that went to sleep costs ~100 us to wake on this
 * 2-vCPU VM (p90 of a fork after a 20 us gap), and the JS between two kernels of a step often takes
 * 40-160 us (the longest after the largest kernels), so too short a spin pays that wake-up ~90
 * times a step. Too long a spin burns the cores whenever another job wants them: libgomp's
 * default, 300,000 (~5 ms), made a step 6x slower with a second job on the cores.
 * Measured (`small` step, 2 cores): 2,000 slept ~90 times a step, 20,000 ~6, and alone ran 0.88x
 * as long as 2,000 (median of 12 alternations; 0.70-1.07, the gain largest while the host is
 * noisy); two such jobs at once ran 348-376 ms a step each against 225 with 2,000 (300,000: 436).
 * Several jobs on one machine should split the cores (`--threads`) or set GOMP_SPINCOUNT lower.
 */
const OPENMP_SPIN_COUNT = '20000';

/**
 * Environment for a child process whose OpenMP threads should wait like ours (the PyTorch references
 * of the benchmarks: under load, a spin-count difference alone swings their ratio by 10x or more).
 */
export function openmpWaitEnv(): NodeJS.ProcessEnv {
  const userSet = process.env.GOMP_SPINCOUNT !== undefined || process.env.OMP_WAIT_POLICY !== undefined;
  return userSet ? { ...process.env } : { ...process.env, GOMP_SPINCOUNT: OPENMP_SPIN_COUNT };
}

function loadAddon(): NativeKernels {
  // libgomp reads its settings once, when the addon pulls it in: set ours for that moment only, so
  // child processes (e.g. the PyTorch reference of the benchmarks) keep their own defaults. A user's
  // GOMP_SPINCOUNT or OMP_WAIT_POLICY wins.
  const setSpin = process.env.GOMP_SPINCOUNT === undefined && process.env.OMP_WAIT_POLICY === undefined;
  if (setSpin) process.env.GOMP_SPINCOUNT = OPENMP_SPIN_COUNT;
  try {
    return createRequire(import.meta.url)(addonPath) as NativeKernels;
  } catch (err) {
    throw new Error(
      `cream-ts: native kernels not found or not loadable at ${addonPath} (${(err as Error).message}). ` +
        'Run `npm ci` (it builds them; needs `apt-get install -y libdnnl-dev`).',
    );
  } finally {
    if (setSpin) delete process.env.GOMP_SPINCOUNT;
  }
}

export const native: NativeKernels = loadAddon();

/** Number of CPU threads the kernels use (OpenMP); defaults to the number of cores. */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: thread count must be a positive integer, got ${n}`);
  native.setThreads(n);
}

export function getThreads(): number {
  return native.getThreads() as number;
}

/** The widest SIMD level the CPU offers (the hand-written kernels use up to AVX2; see `vectorKernels`). */
export function simdLevel(): 'avx512' | 'avx2' | 'scalar' {
  return native.simdLevel() as 'avx512' | 'avx2' | 'scalar';
}

/**
 * The build the batch-norm, activation and pointwise kernels run: `avx2` (AVX2 + FMA), or
 * `baseline` (portable x86-64) on a CPU without them or when CREAM_SIMD=baseline was set at start.
 */
export function vectorKernels(): 'avx2' | 'baseline' {
  return native.vectorKernels() as 'avx2' | 'baseline';
}
