// The PyTorch side of `bench ops`: bench/torch_reference.py kept running in its line-protocol mode,
// and the best of several such processes (PyTorch under different OpenMP wait settings).
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
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
  private pending: ((line: string | null) => void)[] = [];
  private buffered: (string | null)[] = [];

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (l) => this.deliver(l));
    lines.on('close', () => this.deliver(null));
  }

  private deliver(line: string | null): void {
    const waiter = this.pending.shift();
    if (waiter) waiter(line);
    else this.buffered.push(line);
  }

  private next(): Promise<string | null> {
    if (this.buffered.length > 0) return Promise.resolve(this.buffered.shift() ?? null);
    return new Promise((resolve) => this.pending.push(resolve));
  }

  private async request(message: unknown): Promise<unknown> {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    const line = await this.next();
    if (line === null) throw new Error('PyTorch reference exited');
    return JSON.parse(line);
  }

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
    const child = spawn(python, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const spawnError = new Promise<string>((resolve) => child.on('error', (e) => resolve(e.message)));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const ref = new TorchReference(child);
    const first = await Promise.race([ref.next(), spawnError.then(() => null)]);
    if (first?.includes('"ready"')) return ref;
    child.kill();
    // Let stderr drain (a Python traceback) before reporting.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
    const why = (await Promise.race([spawnError, Promise.resolve('')])) || stderr.trim().split('\n').slice(-1)[0];
    log(`bench ops: PyTorch reference unavailable (${python}: ${why || 'no output'}); torch columns are null`);
    return null;
  }

  async measure(spec: OpCaseSpec): Promise<TorchResult | { error: string }> {
    return (await this.request(spec)) as TorchResult | { error: string };
  }

  async add8Us(): Promise<number> {
    return ((await this.request('add8')) as { add8Us: number }).add8Us;
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** Several PyTorch references measured in turn; each case reports the fastest. */
export class BestOfTorch {
  constructor(private readonly refs: TorchReference[]) {}

  async measure(spec: OpCaseSpec): Promise<TorchResult | { error: string }> {
    let best: TorchResult | { error: string } | null = null;
    for (const ref of this.refs) {
      const r = await ref.measure(spec);
      if (best === null || ('fwdBwdGflops' in r && (!('fwdBwdGflops' in best) || r.fwdBwdGflops > best.fwdBwdGflops))) {
        best = r;
      }
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
