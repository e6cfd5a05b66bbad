/**
 * Search spaces: spec files and presets, resolved per-layer shapes, architectures, MACs/params,
 * samplers and evolution operators. Pure TypeScript (no tensors).
 *
 * ```ts
 * const space = loadSpace('imagenet');            // or a path to a YAML/JSON file
 * const arch = parseArch(space, '[["k3e4"],["k5e6","k5e6"],...]', { allowDeeper: true });
 * childCost(space, arch);                          // { macs, params }
 * const sampler = new ArchSampler(space, { minMacs: 200e6, maxMacs: 400e6 });
 * sampler.sample(new Mulberry32(42));
 * ```
 *
 * For building networks, `space.body` lists the stem-to-head blocks in order, and
 * `space.stages[s].layerInfo[l]` (or `layerAt(space, s, l)` for any depth) gives each searchable
 * layer's inChannels, outChannels, stride, inputSize/outputSize and candidate `OpSpec`s.
 */
export {
  type Arch,
  type ArchOptions,
  canonicalArch,
  formatArch,
  formatArchCompact,
  padArch,
  parseArch,
  sameNetwork,
  stripSkips,
  validateArch,
} from './arch.ts';
export { childCost, fixedCost, headCost, stemCost, supernetParams } from './child-cost.ts';
export { type Cost, CostCounter, convBnCost, dsCost, type LayerShape, opCost } from './cost.ts';
export { CostTable, costTable } from './cost-table.ts';
export { countCandidates, countNetworks } from './count.ts';
export { SpaceError } from './errors.ts';
export { crossoverArchs, mutateArch } from './evolution-ops.ts';
export { listPresets, loadSpace, PRESET_DIR, parseSpace, spaceFromData } from './load.ts';
export { exportOfficialArch, importOfficialArch } from './official.ts';
export {
  type ConvOp,
  convOutputSize,
  isOpName,
  type MBConvOp,
  makeDivisible,
  type OpSpec,
  parseOp,
  type ResBlockOp,
  type SkipOp,
} from './ops.ts';
export { Mulberry32, type Mulberry32State } from './random.ts';
export {
  atResolution,
  type BodyItem,
  type FixedBlock,
  layerAt,
  type ResolvedLayer,
  resolveSpace,
  type SearchSpace,
  type SearchStage,
} from './resolve.ts';
export {
  ArchSampler,
  type Budget,
  checkBudget,
  DEFAULT_MAX_TRIES,
  randomIndex,
  type SamplerOptions,
  type SeededRandom,
  sampleArch,
  uniformArch,
} from './sampler.ts';
export { formatPath, parseSpaceSpec, type SpaceSpec, type StageSpec, spaceSchema } from './schema.ts';
