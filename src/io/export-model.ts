/**
 * `cream export` as a library call: checkpoint -> child network -> inference form (BN folded) ->
 * ONNX file or TF.js folder, with the architecture, MACs ("FLOPs") and parameters in the metadata.
 * Everything that can fail on the network (an op the exporters do not know, a state dict that
 * does not fit the architecture) fails before anything is written, and the writers are atomic.
 */
import type { ChildNetwork } from '../models/index.ts';
import { InferenceNetwork } from '../models/inference.ts';
import { foldNetwork } from '../models/inference-graph.ts';
import { InitRandom } from '../nn/index.ts';
import type { Arch, SearchSpace } from '../space/index.ts';
import { runOnnx, runTfjs } from './export-check.ts';
import { loadChildCheckpoint } from './export-checkpoint.ts';
import { type ExportMetadata, exportMetadata, type Normalization } from './export-metadata.ts';
import { writeOnnx } from './onnx.ts';
import { writeTfjs } from './tfjs.ts';

export type ExportFormat = 'onnx' | 'tfjs';

export interface ExportNetworkOptions {
  format: ExportFormat;
  /** The .onnx file, or the TF.js folder. */
  out: string;
  /** ONNX input layout (default NCHW); TF.js is always NHWC. */
  layout?: 'NCHW' | 'NHWC';
  /** Recorded in the metadata. */
  source?: { weights?: string; checkpoint?: string; normalize?: Normalization };
  /** Run the written model in its runtime on random images and compare with our engine. */
  check?: boolean;
}

export interface ExportResult {
  format: ExportFormat;
  out: string;
  bytes: number;
  metadata: ExportMetadata;
  /** With `check`: largest |exported - ours| over the logits of 2 random images, and the largest |logit|. */
  check?: { maxAbsDiff: number; maxAbsLogit: number };
}

/** Exports a network (in eval mode, with the weights to export) to `opts.out`. */
export async function exportNetwork(
  net: ChildNetwork,
  space: SearchSpace,
  arch: Arch,
  opts: ExportNetworkOptions,
): Promise<ExportResult> {
  const graph = foldNetwork(net);
  const layout = opts.format === 'tfjs' ? 'NHWC' : (opts.layout ?? 'NCHW');
  const metadata = exportMetadata(space, arch, layout, opts.source);
  const bytes =
    opts.format === 'onnx'
      ? writeOnnx(opts.out, graph, metadata, { layout })
      : writeTfjs(opts.out, graph, metadata).bytes;
  const result: ExportResult = { format: opts.format, out: opts.out, bytes, metadata };
  if (opts.check) {
    const [h, w, c] = graph.inputShape;
    const batch = 2;
    const rng = new InitRandom(7);
    const x = new Float32Array(batch * h * w * c);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    const ours = new InferenceNetwork(graph).run(x, batch);
    const theirs =
      opts.format === 'onnx'
        ? await runOnnx(opts.out, x, [batch, h, w, c], layout)
        : (await runTfjs(opts.out, x, [batch, h, w, c])).logits;
    let maxAbsDiff = 0;
    let maxAbsLogit = 0;
    for (let i = 0; i < ours.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours[i] - theirs[i]));
      maxAbsLogit = Math.max(maxAbsLogit, Math.abs(ours[i]));
    }
    result.check = { maxAbsDiff, maxAbsLogit };
  }
  return result;
}

export interface ExportCheckpointOptions extends Omit<ExportNetworkOptions, 'source'> {
  /** A checkpoint file, or a folder with final.safetensors. */
  checkpoint: string;
  /** Checkpoint group of the weights (default: 'ema' when present, else 'model'). */
  weights?: string;
}

export async function exportCheckpoint(opts: ExportCheckpointOptions): Promise<ExportResult> {
  const child = loadChildCheckpoint(opts.checkpoint, { group: opts.weights });
  try {
    return await exportNetwork(child.net, child.space, child.arch, {
      ...opts,
      source: { weights: child.group, checkpoint: child.path, normalize: child.normalize },
    });
  } finally {
    child.net.dispose();
  }
}
