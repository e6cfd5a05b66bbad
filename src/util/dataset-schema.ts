// Where a run's images come from: the config keys search and retrain share.
import { z } from 'zod';

export const datasetSourceShape = {
  dataset: z.enum(['fashion-mnist', 'mnist', 'image-folder']).default('fashion-mnist'),
  /** Folder of the IDX files (fashion-mnist, mnist) replacing the packaged location. */
  dir: z.string().optional(),
  /** image-folder: training root (one sub-folder per class) or list file of `path label` lines. */
  trainRoot: z.string().optional(),
  trainList: z.string().optional(),
  testRoot: z.string().optional(),
  testList: z.string().optional(),
};
