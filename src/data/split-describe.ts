// A split as JSON, for a run folder: the seed and counts rebuild it, and the hashes prove that a
// resumed run (or a later evaluation) uses exactly the same images. The dataset fingerprints catch
// the other way a split can silently change: same indices, different files behind them.

import { createHash } from 'node:crypto';
import { classCounts, type ImageDataset } from './dataset.ts';
import { SplitMismatchError } from './errors.ts';
import { type DataPools, type DataSplits, makeSplits, type Subset, type SubsetName } from './split.ts';

export interface DatasetFingerprint {
  name: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  /** sha256 of the pixels followed by the labels (int32 little-endian). */
  sha256: string;
}

export interface SubsetDescription {
  count: number;
  /** Images per class. */
  classCounts: number[];
  /** sha256 of the sorted index list as int32 little-endian. */
  sha256: string;
}

export interface SplitDescription {
  version: 1;
  seed: number;
  testFrom: 'test-pool' | 'train-pool';
  pools: { train: DatasetFingerprint; test: DatasetFingerprint | null };
  subsets: Record<SubsetName, SubsetDescription>;
}

const SUBSETS: SubsetName[] = ['train', 'val', 'valSubset', 'test'];

function int32LittleEndian(values: Int32Array): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeInt32LE(values[i], i * 4);
  return out;
}

// Hashing 47 MB of pixels costs ~0.1 s; remember the answer per dataset object.
const fingerprints = new WeakMap<ImageDataset, DatasetFingerprint>();

/** Identifies a dataset by its shape and a hash of its content. */
export function fingerprintDataset(dataset: ImageDataset): DatasetFingerprint {
  const cached = fingerprints.get(dataset);
  if (cached) return cached;
  const hash = createHash('sha256');
  hash.update(dataset.images);
  hash.update(int32LittleEndian(dataset.labels));
  const { name, count, height, width, channels, numClasses } = dataset;
  const fp = { name, count, height, width, channels, numClasses, sha256: hash.digest('hex') };
  fingerprints.set(dataset, fp);
  return fp;
}

function describeSubset(subset: Subset): SubsetDescription {
  return {
    count: subset.indices.length,
    classCounts: classCounts(subset.dataset, subset.indices),
    sha256: createHash('sha256').update(int32LittleEndian(subset.indices)).digest('hex'),
  };
}

/** The JSON record of a split (store it in the run folder). */
export function describeSplit(splits: DataSplits): SplitDescription {
  const testPool = splits.testFrom === 'test-pool' ? splits.test.dataset : undefined;
  return {
    version: 1,
    seed: splits.seed,
    testFrom: splits.testFrom,
    pools: {
      train: fingerprintDataset(splits.train.dataset),
      test: testPool ? fingerprintDataset(testPool) : null,
    },
    subsets: Object.fromEntries(SUBSETS.map((s) => [s, describeSubset(splits[s])])) as Record<
      SubsetName,
      SubsetDescription
    >,
  };
}

function differences(recorded: unknown, current: unknown, path: string, out: string[]): void {
  if (typeof recorded === 'object' && recorded !== null && typeof current === 'object' && current !== null) {
    const keys = new Set([...Object.keys(recorded), ...Object.keys(current)]);
    for (const key of keys) {
      differences(
        (recorded as Record<string, unknown>)[key],
        (current as Record<string, unknown>)[key],
        path ? `${path}.${key}` : key,
        out,
      );
    }
  } else if (recorded !== current) {
    out.push(`${path}: recorded ${JSON.stringify(recorded)}, now ${JSON.stringify(current)}`);
  }
}

/** Throws SplitMismatchError listing every field where `splits` differs from the `recorded` description. */
export function verifySplit(recorded: SplitDescription, splits: DataSplits): void {
  const diffs: string[] = [];
  // Names are labels, not content: a renamed folder with identical images is the same data.
  const current = describeSplit(splits);
  const strip = (d: SplitDescription): unknown => ({
    ...d,
    pools: {
      train: { ...d.pools.train, name: undefined },
      test: d.pools.test ? { ...d.pools.test, name: undefined } : null,
    },
  });
  differences(strip(recorded), strip(current), '', diffs);
  if (diffs.length > 0) {
    const shown = diffs.slice(0, 5).join('; ') + (diffs.length > 5 ? `; and ${diffs.length - 5} more` : '');
    throw new SplitMismatchError(`the data split differs from the recorded one: ${shown}`);
  }
}

/** Rebuilds a recorded split from its seed and counts, and checks it selects the same images. */
export function restoreSplits(pools: DataPools, recorded: SplitDescription): DataSplits {
  if (recorded.version !== 1) throw new SplitMismatchError(`unknown split description version ${recorded.version}`);
  const { subsets } = recorded;
  const splits = makeSplits(pools, {
    seed: recorded.seed,
    train: subsets.train.count,
    val: subsets.val.count,
    valSubset: subsets.valSubset.count,
    test: subsets.test.count,
  });
  verifySplit(recorded, splits);
  return splits;
}
