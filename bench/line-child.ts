// A child process spoken to in JSON lines: one request line in, one answer line out. The PyTorch
// references of the benchmarks run this way, so that they stay loaded (idle on stdin) while the
// engine runs and each PyTorch measurement can follow the engine's right away.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export class LineChild {
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

  /**
   * Starts `command args`, sends `hello` (if given) as the first line and waits for an answer
   * containing "ready". Otherwise the child is stopped and the reason returned: the spawn error or
   * the last line of its stderr (a Python traceback ends with the exception).
   */
  static async start(
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    hello?: unknown,
  ): Promise<LineChild | { error: string }> {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const spawnError = new Promise<string>((resolve) => child.on('error', (e) => resolve(e.message)));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const lineChild = new LineChild(child);
    if (hello !== undefined) child.stdin.write(`${JSON.stringify(hello)}\n`);
    const first = await Promise.race([lineChild.next(), spawnError.then(() => null)]);
    if (first?.includes('"ready"')) return lineChild;
    child.kill();
    // Let stderr drain before reporting.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
    const why = (await Promise.race([spawnError, Promise.resolve('')])) || stderr.trim().split('\n').slice(-1)[0];
    return { error: why || 'no output' };
  }

  /** Sends one message and waits for its answer line, parsed. */
  async request(message: unknown): Promise<unknown> {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    const line = await this.next();
    if (line === null) throw new Error('the reference process exited');
    return JSON.parse(line);
  }

  close(): void {
    this.child.stdin.end();
  }
}
