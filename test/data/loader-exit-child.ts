// Child process of loader.test.ts: uses a worker loader and then either closes it or (with the
// argument "forget") leaves it open; the test checks that the process exits either way.

import { BatchLoader } from '../../src/data/loader.ts';
import { syntheticDataset } from './helpers.ts';

const dataset = syntheticDataset([40, 40]);
const loader = new BatchLoader({
  subset: { dataset, indices: Int32Array.from({ length: 80 }, (_, i) => i) },
  batchSize: 8,
  seed: 1,
  augment: { normalize: { mean: [0.5], std: [0.5] }, flip: true },
  workers: 2,
});
const batch = await loader.next();
if (batch.size !== 8) process.exit(3);
if (process.argv[2] !== 'forget') await loader.close();
