/**
 * `cream export --checkpoint FILE_OR_DIR --format onnx|tfjs --out PATH`: the trained child network
 * of a checkpoint as an ONNX file or a TF.js layers model. Parsing and printing only; the work is
 * in src/io/export-model.ts (docs/export.md has the details).
 */
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { resolveCheckpointFile } from '../io/export-checkpoint.ts';
import { type ExportFormat, exportCheckpoint } from '../io/export-model.ts';
import { UnsupportedOpError } from '../models/inference-graph.ts';
import { formatArch } from '../space/index.ts';
import { UsageError } from './errors.ts';

interface ExportOptions {
  checkpoint: string;
  format: string;
  out?: string;
  weights?: string;
  layout: string;
  check?: boolean;
  json?: boolean;
}

function mega(n: number): string {
  return `${(n / 1e6).toFixed(2)}M`;
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description(
      'export the child network of a checkpoint to ONNX or TF.js (BN folded; arch, FLOPs, params in the metadata)',
    )
    .requiredOption('--checkpoint <file|dir>', 'checkpoint file, or a run folder with final.safetensors')
    .option('--format <onnx|tfjs>', 'output format', 'onnx')
    .option('--out <path>', 'the .onnx file or the TF.js folder (default: model.onnx or tfjs/ beside the checkpoint)')
    .option('--weights <group>', 'checkpoint group to export: ema or model (default: ema when present, else model)')
    .option('--layout <nchw|nhwc>', 'ONNX input layout (TF.js is always NHWC)', 'nchw')
    .option('--check', 'run the export in onnxruntime-node / tfjs on random images and compare with our engine')
    .option('--json', 'print the result as one JSON line')
    .action(async (o: ExportOptions) => {
      if (o.format !== 'onnx' && o.format !== 'tfjs')
        throw new UsageError(`--format: expected onnx or tfjs, got "${o.format}"`);
      const layout = o.layout.toUpperCase();
      if (layout !== 'NCHW' && layout !== 'NHWC')
        throw new UsageError(`--layout: expected nchw or nhwc, got "${o.layout}"`);
      const format = o.format as ExportFormat;
      const out =
        o.out ?? join(dirname(resolveCheckpointFile(o.checkpoint)), format === 'onnx' ? 'model.onnx' : 'tfjs');
      let result: Awaited<ReturnType<typeof exportCheckpoint>>;
      try {
        result = await exportCheckpoint({
          checkpoint: o.checkpoint,
          format,
          out,
          weights: o.weights,
          layout,
          check: o.check,
        });
      } catch (e) {
        if (e instanceof UnsupportedOpError) {
          process.stderr.write(`cream: ${e.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw e;
      }
      const m = result.metadata;
      if (o.json) {
        console.log(JSON.stringify(result));
        return;
      }
      console.log(
        `exported ${m.space} ${formatArch(m.arch)} (${mega(m.macs)} MACs, ${mega(m.params)} params, weights "${m.weights}" of ${m.checkpoint})`,
      );
      console.log(
        `  ${format === 'onnx' ? `ONNX opset 13, input ${m.inputLayout}` : 'TF.js layers model, input NHWC'} -> ${out} (${result.bytes} bytes)`,
      );
      if (result.check) {
        const { maxAbsDiff, maxAbsLogit } = result.check;
        const relative = maxAbsDiff / Math.max(1, maxAbsLogit);
        console.log(
          `  check (2 random images): max |exported - ours| = ${maxAbsDiff.toExponential(2)}, ` +
            `${relative.toExponential(1)} of the largest logit (${maxAbsLogit.toFixed(2)})`,
        );
      }
    });
}
