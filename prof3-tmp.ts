import { RAND_AUGMENT_OPS, randAugment } from './src/data/rand-augment.ts';
import { Rng } from './src/data/rng.ts';
const s = { height: 28, width: 28, channels: 1 };
const base = new Uint8Array(784).map((_, i) => (i * 37) % 256);
const img = new Uint8Array(784); const scratch = new Uint8Array(784);
for (const op of RAND_AUGMENT_OPS) {
  const rng = new Rng(1);
  const t = performance.now(); const n = 20000;
  for (let k = 0; k < n; k++) { img.set(base); randAugment(img, scratch, s, { ops: 1, magnitude: 9, probability: 1, choices: [op] }, 0, rng); }
  console.log(op.padEnd(14), ((performance.now() - t) * 1000 / n).toFixed(2), 'us');
}
