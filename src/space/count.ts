/** Sizes of a search space. */
import type { SearchSpace } from './resolve.ts';

/**
 * Number of paths: the product over every supernet layer of its candidate count (skip included
 * where allowed), as the paper counts it. imagenet: (6 * 7^3)^5 = 2058^5 ~ 3.69e16.
 * Paths that differ only in where their skips sit build the same network; see countNetworks.
 */
export function countCandidates(space: SearchSpace): bigint {
  let n = 1n;
  for (const stage of space.stages) {
    for (const layer of stage.layerInfo) n *= BigInt(layer.candidates.length);
  }
  return n;
}

/** Number of distinct networks: with skip, sum over depth d = 1..layers of ops^d per stage; else ops^layers. */
export function countNetworks(space: SearchSpace): bigint {
  let n = 1n;
  for (const stage of space.stages) {
    const ops = BigInt(stage.ops.length);
    let pow = 1n;
    let sum = 0n;
    for (let d = 1; d <= stage.layers; d++) {
      pow *= ops;
      sum += pow;
    }
    n *= stage.skip ? sum : pow;
  }
  return n;
}
