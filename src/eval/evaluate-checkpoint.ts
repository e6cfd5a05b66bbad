// `cream eval` as a function: a retrained network (a run folder, its final.safetensors or a mid-run
// checkpoint) scored on the validation or test split it was retrained with, plus its FLOPs, its
// parameters and its batch-1 single-thread latency. The checkpoint carries everything needed
// (space spec, architecture, data settings and split fingerprint), so nothing else is read.
import { checkPoolsFit, evalBatches, loadPools, restoreSplits } from '../data/index.ts';
import type { ChildNetwork } from '../models/index.ts';
import { InferenceNetwork } from '../models/inference.ts';
import { loadModelFile } from '../retrain/model-file.ts';
import { retrainDatasetSpec } from '../retrain/retrain-data.ts';
import { type Arch, childCost, type SearchSpace } from '../space/index.ts';
import { getThreads, setThreads } from '../tensor/index.ts';
import { type EvalResult, evaluate } from './accuracy.ts';
import { type LatencyResult, measureLatency } from './latency.ts';

export interface EvaluateCheckpointOptions {
  split?: 'val' | 'test';
  /** Dataset folder replacing the recorded one (IDX files, or the image-folder training root). */
  dataDir?: string;
  batchSize?: number;
  /** Timed batch-1 passes (default 200); 0 skips the latency measurement. */
  latencyRuns?: number;
  latencyWarmup?: number;
}

export interface CheckpointEvaluation {
  checkpoint: string;
  /** `ema` for a mid-run checkpoint's EMA group; `model` for final.safetensors (which holds EMA weights). */
  weights: 'ema' | 'model';
  space: string;
  arch: Arch;
  /** Multiply-accumulates of one forward pass at the space's resolution. */
  flops: number;
  params: number;
  split: 'val' | 'test';
  top1: number;
  top5: number;
  loss: number;
  images: number;
  latency: LatencyResult | null;
}

/**
 * Batch-1 single-thread latency of the inference fast path. Its batch-1 plan is compiled first, on
 * one thread, so the timing of each conv's candidate kernels (the tuning) is not in the timed runs.
 */
function fastPathLatency(network: ChildNetwork, space: SearchSpace, runs: number, warmup: number): LatencyResult {
  const fast = InferenceNetwork.fromNetwork(network, { tune: true });
  const before = getThreads();
  setThreads(1);
  try {
    fast.prepare(1); // compiled and tuned on the one thread it is timed on
  } finally {
    setThreads(before);
  }
  return measureLatency((x) => fast.forward(x), [1, space.resolution, space.resolution, space.inputChannels], {
    runs,
    warmup,
    threads: 1,
  });
}

export function evaluateCheckpoint(dirOrFile: string, opts: EvaluateCheckpointOptions = {}): CheckpointEvaluation {
  const split = opts.split ?? 'test';
  const loaded = loadModelFile(dirOrFile);
  const { network, space, description } = loaded;
  try {
    const data = { ...description.data };
    if (opts.dataDir !== undefined) {
      if (data.dataset === 'image-folder') {
        data.trainRoot = opts.dataDir;
        data.trainList = undefined;
      } else data.dir = opts.dataDir;
    }
    const pools = loadPools(retrainDatasetSpec(data, space).spec);
    checkPoolsFit(pools, space, data.dataset);
    // The same images as in training: rebuilt from the recorded seed and counts, hashes checked.
    const splits = restoreSplits(pools, description.split);
    const scores: EvalResult = evaluate(
      (x) => network.forward(x),
      evalBatches(splits[split], { batchSize: opts.batchSize ?? 256, normalize: description.normalize }),
    );
    const runs = opts.latencyRuns ?? 200;
    // Latency is timed on the inference fast path, the way a deployment runs the network (BN
    // folded, no tape, buffers reused); accuracy above comes from the ordinary eval-mode forward.
    const latency = runs > 0 ? fastPathLatency(network, space, runs, opts.latencyWarmup ?? 20) : null;
    return {
      checkpoint: loaded.path,
      weights: loaded.weights,
      space: description.spaceName,
      arch: network.arch,
      flops: childCost(space, network.arch).macs,
      params: network.parameterCount(),
      split,
      top1: scores.top1,
      top5: scores.top5,
      loss: scores.loss,
      images: scores.count,
      latency,
    };
  } finally {
    network.dispose();
  }
}
