/**
 * `cream bench ops|data|train-step|latency`: the benchmarks of bench/ and src/cli/bench-data.ts, with JSON
 * output. Speed targets live here, never in the test suite.
 */
import type { Command } from 'commander';
import { UsageError } from './errors.ts';

function int(text: string, option: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${option}: expected an integer >= ${min}, got "${text}"`);
  return n;
}

export function registerBenchCommands(program: Command): void {
  const bench = program.command('bench').description('benchmarks (JSON out, PyTorch ratio from the same run)');

  bench
    .command('ops')
    .description('each op forward and forward+backward at the benchmark shapes, GFLOP/s vs PyTorch')
    .option('--json', 'one JSON object per line')
    .option('--batch <n>', 'batch size', '128')
    .option('--runs <n>', 'timed runs per op', '10')
    .option('--rounds <n>', 'alternations of ours and PyTorch per op (the median-ratio round is reported)', '1')
    .option('--only <text>', 'only ops whose name or kind contains this')
    .option('--threads <n>', 'kernel threads')
    .option('--no-torch', 'skip the PyTorch reference')
    .action(
      async (o: {
        json?: boolean;
        batch: string;
        runs: string;
        rounds: string;
        only?: string;
        threads?: string;
        torch: boolean;
      }) => {
        const { runOpsBench } = await import('../../bench/ops.ts');
        const { rows, overhead } = await runOpsBench({
          batch: int(o.batch, '--batch'),
          runs: int(o.runs, '--runs'),
          rounds: int(o.rounds, '--rounds'),
          only: o.only,
          threads: o.threads ? int(o.threads, '--threads') : undefined,
          torch: o.torch,
          log: (m) => process.stderr.write(`${m}\n`),
        });
        if (o.json) {
          for (const r of rows) console.log(JSON.stringify(r));
          console.log(JSON.stringify(overhead));
        } else {
          console.table(
            rows.map((r) => ({
              op: r.op,
              kind: r.kind,
              shape: r.shape,
              fwd: r.fwdGflops,
              fwdBwd: r.fwdBwdGflops,
              torch: r.torchFwdBwdGflops,
              ratio: r.ratio,
            })),
          );
          console.log(overhead);
        }
      },
    );

  bench
    .command('data')
    .description('images/s of the training loader with augmentation on Fashion-MNIST')
    .option('--json')
    .option('--batch <n>', 'batch size', '128')
    .option('--seconds <s>', 'measuring time', '5')
    .option('--workers <n>', 'loader workers', '1')
    .option('--augment <kind>', 'search | retrain', 'search')
    .action(async (o: { json?: boolean; batch: string; seconds: string; workers: string; augment: string }) => {
      if (o.augment !== 'search' && o.augment !== 'retrain')
        throw new UsageError(`--augment: expected search or retrain, got "${o.augment}"`);
      const { benchData } = await import('./bench-data.ts');
      await benchData({
        json: Boolean(o.json),
        batch: int(o.batch, '--batch'),
        seconds: Number(o.seconds),
        workers: int(o.workers, '--workers', 0),
        augment: o.augment,
      });
    });

  bench
    .command('latency')
    .description('batch-1 one-thread inference latency: our fast path vs onnxruntime-node vs PyTorch, same networks')
    .option(
      '--networks <list>',
      'comma-separated: fmnist/small,fmnist/mid,fmnist/large,imagenet/cream-287m (default: all)',
    )
    .option('--runs <n>', 'timed runs per engine (median reported)', '200')
    .option('--warmup <n>', 'untimed runs first', '20')
    .option('--no-torch', 'skip the PyTorch reference')
    .option('--no-ort', 'skip onnxruntime-node')
    .option('--json', 'one JSON object per network')
    .action(
      async (o: { networks?: string; runs: string; warmup: string; torch: boolean; ort: boolean; json?: boolean }) => {
        const { runLatencyBench } = await import('../../bench/latency.ts');
        const rows = await runLatencyBench({
          networks: o.networks?.split(',').map((s) => s.trim()),
          runs: int(o.runs, '--runs'),
          warmup: int(o.warmup, '--warmup', 0),
          torch: o.torch,
          ort: o.ort,
          log: (m) => process.stderr.write(`${m}\n`),
        });
        if (o.json) for (const r of rows) console.log(JSON.stringify(r));
        else
          console.table(
            rows.map((r) => ({
              network: r.network,
              ours: r.oursMs,
              eager: r.oursEagerMs,
              ort: r.ortMs,
              torch: r.torchMs,
              ortOverOurs: r.ortOverOurs,
              torchOverOurs: r.torchOverOurs,
            })),
          );
      },
    );

  bench
    .command('train-step')
    .description('median full training step of a supernet path vs PyTorch on the same network')
    .option('--space <name|file>', 'search space', 'fmnist')
    .option('--paths <file>', 'JSON file of named paths (default: the fmnist benchmark paths)')
    .option('--path <name>', 'small | mid | large', 'mid')
    .option('--batch <n>', 'batch size', '128')
    .option('--steps <n>', 'timed steps', '10')
    .option('--warmup <n>', 'untimed steps first', '3')
    .option('--rounds <n>', 'alternating rounds of ours then PyTorch; the median-ratio round is reported', '3')
    .option('--threads <n>', 'kernel threads')
    .option('--no-torch', 'skip the PyTorch reference')
    .option('--json')
    .action(
      async (o: {
        space: string;
        paths?: string;
        path: string;
        batch: string;
        steps: string;
        warmup: string;
        rounds: string;
        threads?: string;
        torch: boolean;
        json?: boolean;
      }) => {
        const { runTrainStepBench, DEFAULT_PATHS_FILE } = await import('../../bench/train-step.ts');
        const r = await runTrainStepBench({
          space: o.space,
          pathsFile: o.paths ?? DEFAULT_PATHS_FILE,
          path: o.path,
          batch: int(o.batch, '--batch'),
          steps: int(o.steps, '--steps'),
          warmup: int(o.warmup, '--warmup', 0),
          rounds: int(o.rounds, '--rounds'),
          threads: o.threads ? int(o.threads, '--threads') : undefined,
          torch: o.torch,
        });
        console.log(o.json ? JSON.stringify(r) : r);
      },
    );
}
