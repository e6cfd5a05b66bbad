// Per-channel mean and standard deviation of pixel/255 over a subset, for datasets without
// published values (users' image folders). Compute them on the training split only, so nothing of
// the validation or test images leaks into the preprocessing.

import type { NormalizeOptions } from './augment.ts';
import type { Subset } from './split.ts';

export function channelStats(subset: Pick<Subset, 'dataset' | 'indices'>): NormalizeOptions {
  const { dataset, indices } = subset;
  const { channels } = dataset;
  const imageSize = dataset.height * dataset.width * channels;
  // Integer sums per channel are exact (counts stay far below 2^53 for any dataset in memory).
  const sum = new Array<number>(channels).fill(0);
  const sumSq = new Array<number>(channels).fill(0);
  for (let n = 0; n < indices.length; n++) {
    const base = indices[n] * imageSize;
    for (let c = 0; c < channels; c++) {
      let s = 0;
      let q = 0;
      for (let i = base + c; i < base + imageSize; i += channels) {
        const v = dataset.images[i];
        s += v;
        q += v * v;
      }
      sum[c] += s;
      sumSq[c] += q;
    }
  }
  const count = (indices.length * imageSize) / channels;
  if (count === 0) throw new RangeError('cannot compute channel statistics of an empty subset');
  const mean = sum.map((s) => s / count / 255);
  const std = sumSq.map((q, c) => Math.sqrt(Math.max(q / count / 65025 - mean[c] * mean[c], 0)));
  return { mean, std: std.map((s) => (s > 0 ? s : 1)) };
}
