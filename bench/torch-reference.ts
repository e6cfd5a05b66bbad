// The PyTorch side of `bench ops`: bench/torch_reference.py kept running in its line-protocol mode,
// and the best of several such processes (PyTorch under different OpenMP wait settings).
import { fileURLToPath } from 'node:url';
import { LineChild } from './line-child.ts';
import type { OpCaseSpec } from './op-cases.ts';

export interface TorchResult {
  fwdGflops: number;
  fwdBwdGflops: number;
  fwdBwdGflopsBest: number;
  layout: string;
}

/**
 * bench/torch_reference.py in its line-protocol mode: one case in, one result out. Each case is
 * measured in PyTorch right after the engine, so both see the same machine load; the child waits
 * on stdin (idle) while the engine runs.
 */
export class TorchReference {
  private constructor(private readonly child: LineChild) {}

  /** Starts the child; null (with the reason logged) when python3 or torch is not available. */
  static async start(
    opts: { runs: number; warmup: number; threads: number },
    log: (m: string) => void,
    env: NodeJS.ProcessEnv,
  ): Promise<TorchReference | null> {
    const script = fileURLToPath(new URL('./torch_reference.py', import.meta.url));
    const python = process.env.PYTHON ?? 'python3';
    const args = [
      '--serve',
      '--runs',
      String(opts.runs),
      '--warmup',
      String(opts.warmup),
      '--threads',
      String(opts.threads),
    ];
    const child = await LineChild.start(python, [script, ...args], env);
    if (child instanceof LineChild) return new TorchReference(child);
    log(`bench ops: PyTorch reference unavailable (${python}: ${child.error}); torch columns are null`);
    return null;
  }

  /** The case in its faster layout, or in `layout` when given. */
  async measure(spec: OpCaseSpec, layout?: string): Promise<TorchResult | { error: string }> {
    return (await this.child.request(layout ? { ...spec, layout } : spec)) as TorchResult | { error: string };
  }

  async add8Us(): Promise<number> {
    return ((await this.child.request('add8')) as { add8Us: number }).add8Us;
  }

  close(): void {
    this.child.close();
  }
}

/** Several PyTorch references (one per OpenMP setting); a case is run in each and the fastest kept. */
export class BestOfTorch {
  constructor(private readonly refs: TorchReference[]) {}

  /**
   * Runs the case in every reference (each in its faster layout) and returns the fastest result
   * with the reference that gave it, so later windows can run that reference and layout alone.
   */
  async choose(spec: OpCaseSpec): Promise<{ result: TorchResult | { error: string }; ref: TorchReference }> {
    let best: { result: TorchResult | { error: string }; ref: TorchReference } | null = null;
    for (const ref of this.refs) {
      const r = await ref.measure(spec);
      const better =
        best === null ||
        ('fwdBwdGflops' in r && (!('fwdBwdGflops' in best.result) || r.fwdBwdGflops > best.result.fwdBwdGflops));
      if (better) best = { result: r, ref };
    }
    return best!;
  }

  async add8Us(): Promise<number> {
    const times: number[] = [];
    for (const ref of this.refs) times.push(await ref.add8Us());
    return Math.min(...times);
  }

  close(): void {
    for (const ref of this.refs) ref.close();
  }
}
