/**
 * `cream eval`: top-1 / top-5 of a retrained network on its test (or validation) split, with its
 * FLOPs, parameters and batch-1 latency on one thread; a table or JSON.
 */
import type { Command } from 'commander';
import { type CheckpointEvaluation, evaluateCheckpoint } from '../eval/evaluate-checkpoint.ts';
import { formatArch } from '../space/index.ts';
import { setThreads } from '../tensor/index.ts';
import { UsageError } from './errors.ts';

interface EvalOptions {
  checkpoint: string;
  split: string;
  json?: boolean;
  latencyRuns: string;
  latencyWarmup: string;
  batchSize: string;
  threads?: string;
  data?: string;
}

function int(text: string, option: string, min: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) {
    throw new UsageError(`${option}: expected an integer >= ${min}, got "${text}"`);
  }
  return Number(text);
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

export function summarizeEvaluation(e: CheckpointEvaluation): string {
  const lines = [
    `checkpoint: ${e.checkpoint} (${e.weights === 'ema' ? 'EMA weights of a mid-run checkpoint' : 'final weights'})`,
    `architecture: ${formatArch(e.arch)} (space ${e.space})`,
    `${e.split} split, ${e.images} images: top-1 ${pct(e.top1)}, top-5 ${pct(e.top5)}, loss ${e.loss.toFixed(4)}`,
    `FLOPs (MACs): ${e.flops.toLocaleString('en-US')}  params: ${e.params.toLocaleString('en-US')}`,
  ];
  if (e.latency) {
    const l = e.latency;
    lines.push(
      `latency, batch 1, ${l.threads} thread: median ${l.medianMs.toFixed(3)} ms (p90 ${l.p90Ms.toFixed(3)} ms, ${l.runs} runs after ${l.warmup} warm-up)`,
    );
  }
  return lines.join('\n');
}

export function runEval(o: EvalOptions): CheckpointEvaluation {
  if (o.split !== 'test' && o.split !== 'val') throw new UsageError(`--split: expected test or val, got "${o.split}"`);
  if (o.threads !== undefined) setThreads(int(o.threads, '--threads', 1));
  const result = evaluateCheckpoint(o.checkpoint, {
    split: o.split,
    dataDir: o.data,
    batchSize: int(o.batchSize, '--batch-size', 1),
    latencyRuns: int(o.latencyRuns, '--latency-runs', 0),
    latencyWarmup: int(o.latencyWarmup, '--latency-warmup', 0),
  });
  console.log(o.json ? JSON.stringify(result, null, 2) : summarizeEvaluation(result));
  return result;
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('top-1/top-5, FLOPs, params and batch-1 single-thread latency of a retrained network')
    .requiredOption(
      '--checkpoint <dir|file>',
      'a retrain run folder, its final.safetensors, or a checkpoint.safetensors',
    )
    .option('--split <name>', 'test | val', 'test')
    .option('--json', 'print one JSON object')
    .option('--latency-runs <n>', 'timed batch-1 forward passes (0: skip)', '200')
    .option('--latency-warmup <n>', 'untimed passes before timing', '20')
    .option('--batch-size <n>', 'evaluation batch size', '256')
    .option('--threads <n>', 'kernel threads for the accuracy pass (latency always uses 1)')
    .option('--data <dir>', 'dataset folder replacing the recorded one')
    .action((o: EvalOptions) => {
      runEval(o);
    });
}
