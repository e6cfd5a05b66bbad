export { WeightEma } from './ema.ts';
export { decayOnlyMatrices, type NamedParameters, Optimizer } from './optimizer.ts';
export { RmspropTF, type RmspropTfOptions } from './rmsprop-tf.ts';
export { type LrSchedule, linearDecay, stepDecay, warmupCosine } from './schedules.ts';
export { SGD, type SgdOptions } from './sgd.ts';
