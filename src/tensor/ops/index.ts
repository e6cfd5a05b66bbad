// One file per op. Add a line here when adding an op.

export { accuracy, topKAccuracy } from './accuracy.ts';
export { add } from './add.ts';
export { avgPool2d } from './avg-pool2d.ts';
export { type BatchNormActivation, type BatchNormOptions, batchNorm } from './batch-norm.ts';
export { type Conv2dOptions, conv2d } from './conv2d.ts';
export { type CrossEntropyOptions, crossEntropy } from './cross-entropy.ts';
export { type DepthwiseConv2dOptions, depthwiseConv2d } from './depthwise-conv2d.ts';
export { dropout } from './dropout.ts';
export { globalAvgPool } from './global-avg-pool.ts';
export { hardSigmoid } from './hard-sigmoid.ts';
export { linear } from './linear.ts';
export { logSoftmax } from './log-softmax.ts';
export { maxPool2d } from './max-pool2d.ts';
export { mean } from './mean.ts';
export { mul } from './mul.ts';
export { mulChannel } from './mul-channel.ts';
export type { Pool2dOptions } from './pool2d.ts';
export { relu } from './relu.ts';
export { relu6 } from './relu6.ts';
export { reshape } from './reshape.ts';
export { scale } from './scale.ts';
export { sigmoid } from './sigmoid.ts';
export { softTargetCrossEntropy } from './soft-target-cross-entropy.ts';
export { softmax } from './softmax.ts';
export { sub } from './sub.ts';
export { sum } from './sum.ts';
export { swish } from './swish.ts';
