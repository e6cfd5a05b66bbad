export { ChildNetwork } from './child-network.ts';
export { type BlockDescription, describeNetwork, type NetworkDescription } from './describe.ts';
export { buildLayerOp, type LayerModule, seChannels } from './layer-op.ts';
export { Head, NetworkBase } from './network-base.ts';
export { Supernet } from './supernet.ts';
