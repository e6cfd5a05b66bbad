// What travels with every exported model: the architecture, its cost and how to feed it. ONNX
// stores it as metadata_props (one `cream.*` key per field, strings), TF.js as
// `userDefinedMetadata.cream` in model.json.
import { type Arch, childCost, type SearchSpace } from '../space/index.ts';

export const EXPORT_FORMAT = 'cream-ts-export-1';
export const PRODUCER = 'cream-ts';
export const PRODUCER_VERSION = '0.1.0';

/** Inputs are (pixel / 255 - mean[c]) / std[c]. */
export interface Normalization {
  mean: number[];
  std: number[];
}

export interface ExportMetadata {
  format: typeof EXPORT_FORMAT;
  /** Space name (preset or file) the architecture belongs to. */
  space: string;
  arch: Arch;
  /** Input height = width, channels, classes. */
  resolution: number;
  inputChannels: number;
  classes: number;
  /** 'NCHW' or 'NHWC': the layout of the model's input. */
  inputLayout: 'NCHW' | 'NHWC';
  /** Multiply-adds of one image at `resolution`. */
  macs: number;
  /** The paper's "FLOPs" (it counts multiply-adds): equal to `macs`. */
  flops: number;
  params: number;
  /** Checkpoint group the weights came from ('model' or 'ema'), when exported from a checkpoint. */
  weights?: string;
  /** The checkpoint file, when exported from one. */
  checkpoint?: string;
  /** The input normalisation of training, when the checkpoint records it. */
  normalize?: Normalization;
}

export function exportMetadata(
  space: SearchSpace,
  arch: Arch,
  inputLayout: ExportMetadata['inputLayout'],
  source: { weights?: string; checkpoint?: string; normalize?: Normalization } = {},
): ExportMetadata {
  const cost = childCost(space, arch);
  return {
    format: EXPORT_FORMAT,
    space: space.name,
    arch,
    resolution: space.resolution,
    inputChannels: space.inputChannels,
    classes: space.classes,
    inputLayout,
    macs: cost.macs,
    flops: cost.macs,
    params: cost.params,
    ...source,
  };
}

/** ONNX metadata_props: `cream.<field>` -> string (the architecture and normalisation as JSON). */
export function metadataProps(m: ExportMetadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined) continue;
    out[`cream.${k}`] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** Inverse of metadataProps (numbers parsed back, the architecture decoded). */
export function parseMetadataProps(props: Record<string, string>): Partial<ExportMetadata> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(props)) {
    if (!key.startsWith('cream.')) continue;
    const k = key.slice(6);
    if (k === 'arch' || k === 'normalize') out[k] = JSON.parse(v);
    else if (['resolution', 'inputChannels', 'classes', 'macs', 'flops', 'params'].includes(k)) out[k] = Number(v);
    else out[k] = v;
  }
  return out as Partial<ExportMetadata>;
}
