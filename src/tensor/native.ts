// Loads the C++ addon built by node-gyp at `npm ci`. Kernels take typed arrays and plain numbers,
// write into output arrays the caller allocated, and return nothing: memory is owned by TypeScript.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

type KernelArg = Float32Array | Int32Array | Uint8Array | number | boolean;

/**
 * The addon's functions by name. Each kernel file in native/src registers its own; argument and
 * size checks happen on the C++ side, so a wrong call throws rather than reading garbage.
 */
export type NativeKernels = Record<string, (...args: KernelArg[]) => unknown>;

// CREAM_NATIVE_ADDON points at another build of the addon (e.g. a copy kept while rebuilding).
const addonPath =
  process.env.CREAM_NATIVE_ADDON ?? fileURLToPath(new URL('../../build/Release/cream_native.node', import.meta.url));

function loadAddon(): NativeKernels {
  try {
    return createRequire(import.meta.url)(addonPath) as NativeKernels;
  } catch (err) {
    throw new Error(
      `cream-ts: native kernels not found or not loadable at ${addonPath} (${(err as Error).message}). ` +
        'Run `npm ci` (it builds them; needs `apt-get install -y libdnnl-dev`).',
    );
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

/** The widest SIMD level the CPU offers, which the hand-written kernels dispatch to. */
export function simdLevel(): 'avx512' | 'avx2' | 'scalar' {
  return native.simdLevel() as 'avx512' | 'avx2' | 'scalar';
}
