// One file per op. Add a line here when adding an op.
export { add } from './add.ts';
export { mul } from './mul.ts';
export { reshape } from './reshape.ts';
export { scale } from './scale.ts';
export { sub } from './sub.ts';
