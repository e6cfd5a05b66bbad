/**
 * Runs an exported model in its own runtime, to check it against our engine: the ONNX file in
 * onnxruntime-node, the TF.js folder in @tensorflow/tfjs (pure JS, CPU backend). Both are
 * development dependencies, loaded on first use; a clear error says so when one is missing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TfjsModelJson } from './tfjs.ts';

async function importOptional<T>(name: string, why: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    throw new Error(`${why} needs the npm package ${name} (a development dependency): ${(e as Error).message}`);
  }
}

/** NHWC -> NCHW. */
export function nhwcToNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + i) * w + j] = x[((b * h + i) * w + j) * c + k];
  return out;
}

type Ort = typeof import('onnxruntime-node');

/** An onnxruntime-node session on one thread (the latency benchmark's setting too). */
export async function onnxSession(
  model: string | Uint8Array,
  threads = 1,
): Promise<import('onnxruntime-node').InferenceSession> {
  const ort = await importOptional<Ort>('onnxruntime-node', 'running an ONNX model');
  const opts = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
    graphOptimizationLevel: 'all' as const,
  };
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, opts)
    : ort.InferenceSession.create(model, opts);
}

/**
 * Logits of `x` (NHWC, `batch` images of [h, w, c]) from an exported ONNX model; `layout` is the
 * model's input layout (see its `cream.inputLayout` metadata).
 */
export async function runOnnx(
  model: string | Uint8Array,
  x: Float32Array,
  shape: [batch: number, h: number, w: number, c: number],
  layout: 'NCHW' | 'NHWC' = 'NCHW',
): Promise<Float32Array> {
  const ort = await importOptional<Ort>('onnxruntime-node', 'running an ONNX model');
  const session = await onnxSession(model);
  const [n, h, w, c] = shape;
  const input =
    layout === 'NCHW'
      ? new ort.Tensor('float32', nhwcToNchw(x, n, h, w, c), [n, c, h, w])
      : new ort.Tensor('float32', x, [n, h, w, c]);
  const out = await session.run({ input });
  const logits = out.logits.data as Float32Array;
  await session.release();
  return logits;
}

type Tf = typeof import('@tensorflow/tfjs');

/** A tf.io.IOHandler reading model.json and its shards from a folder (Node has no file:// loader in pure tfjs). */
export function tfjsFolderHandler(dir: string, tf: Tf): import('@tensorflow/tfjs').io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as TfjsModelJson;
      return tf.io.getModelArtifactsForJSON(json as never, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const all = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  };
}

/** Loads an exported TF.js folder with tf.loadLayersModel and returns the logits of `x` (NHWC). */
export async function runTfjs(
  dir: string,
  x: Float32Array,
  shape: [batch: number, h: number, w: number, c: number],
): Promise<{ logits: Float32Array; metadata: unknown }> {
  const tf = await importOptional<Tf>('@tensorflow/tfjs', 'running a TF.js model');
  // PROD silences the "install tfjs-node" banner of the CPU backend.
  tf.env().set('PROD', true);
  const model = await tf.loadLayersModel(tfjsFolderHandler(dir, tf));
  const input = tf.tensor4d(x, shape);
  const y = model.predict(input) as import('@tensorflow/tfjs').Tensor;
  const logits = (await y.data()) as Float32Array;
  const metadata = model.getUserDefinedMetadata();
  tf.dispose([input, y]);
  model.dispose();
  return { logits, metadata };
}
