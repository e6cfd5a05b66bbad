export { getThreads, native, setThreads, simdLevel, vectorKernels } from './native.ts';
export * from './ops/index.ts';
export { keep, tidy, tidyAsync } from './scope.ts';
export { type DType, type MemoryStats, memoryStats, releasePool, resetPeakLiveBytes } from './storage.ts';
export { type BackwardOptions, backward, isRecording, needsGrad, noGrad, record } from './tape.ts';
export { type Shape, shapeString, sizeOf, type TapeNode, Tensor } from './tensor.ts';
