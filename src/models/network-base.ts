// The parts every network of a space shares: stem, fixed blocks, head and classifier. Supernet and
// child network add the searchable layers between them.
import { activate, ConvBnAct, DepthwiseSeparable, type InitRandom, Linear, Module } from '../nn/index.ts';
import type { FixedBlock, SearchSpace, SearchStage } from '../space/index.ts';
import { dropout, globalAvgPool, type Tensor } from '../tensor/index.ts';
import { seChannels, spaceActivation } from './layer-op.ts';

export type FixedModule = DepthwiseSeparable | ConvBnAct;

function buildFixed(space: SearchSpace, b: FixedBlock, rng: InitRandom): FixedModule {
  const act = spaceActivation(space);
  if (b.kind === 'ds') {
    return new DepthwiseSeparable(b.inChannels, b.outChannels, rng, {
      kernel: b.kernel,
      stride: b.stride,
      seChannels: seChannels(space, b.inChannels),
      act,
    });
  }
  return new ConvBnAct(b.inChannels, b.outChannels, b.kernel, rng, { stride: b.stride, act });
}

/** conv 1x1 + BN + act (optional), pool, conv 1x1 with bias + act (optional), dropout, classifier. */
export class Head extends Module {
  readonly conv: ConvBnAct | null;
  readonly features: Linear | null;
  readonly classifier: Linear;
  /** Advanced every training forward so each step draws a fresh dropout mask; saved in checkpoints. */
  dropoutSeed = 1;
  /** Off while a supernet path is scored with batch statistics (training mode without dropout). */
  dropoutEnabled = true;

  constructor(
    readonly space: SearchSpace,
    rng: InitRandom,
  ) {
    super();
    const h = space.head;
    const act = spaceActivation(space);
    this.conv = h.convChannels
      ? this.registerModule('conv_head', new ConvBnAct(h.inChannels, h.convChannels, 1, rng, { act }))
      : null;
    const pooled = h.convChannels ?? h.inChannels;
    this.features = h.features
      ? this.registerModule('conv_features', new Linear(pooled, h.features, rng, { bias: h.bias, init: 'conv' }))
      : null;
    this.classifier = this.registerModule('classifier', new Linear(h.classifierIn, h.classes, rng));
  }

  forward(x: Tensor): Tensor {
    let y = this.conv ? this.conv.forward(x) : x;
    y = globalAvgPool(y);
    if (this.features) y = activate(this.features.forward(y), spaceActivation(this.space));
    const active = this.training && this.dropoutEnabled;
    if (this.space.head.dropout > 0 && active) y = dropout(y, this.space.head.dropout, this.dropoutSeed++, true);
    return this.classifier.forward(y);
  }
}

/** Stem, fixed blocks (by their position in the space file) and head, shared by all networks. */
export abstract class NetworkBase extends Module {
  readonly stem: ConvBnAct;
  readonly fixed = new Map<number, FixedModule>();
  readonly head: Head;

  constructor(
    readonly space: SearchSpace,
    rng: InitRandom,
    /** Builds one searchable stage's modules, named relative to `blocks.<position>.`. */
    buildSearchStage: (stage: SearchStage) => [string, Module][],
  ) {
    super();
    const s = space.stem;
    this.stem = this.registerModule(
      'stem',
      new ConvBnAct(s.inChannels, s.outChannels, s.kernel, rng, { stride: s.stride, act: spaceActivation(space) }),
    );
    for (const item of space.body) {
      if (item.kind === 'fixed') {
        this.fixed.set(
          item.block.position,
          this.registerModule(`blocks.${item.block.position}`, buildFixed(space, item.block, rng)),
        );
      } else {
        for (const [name, m] of buildSearchStage(item.stage)) {
          this.registerModule(`blocks.${item.stage.position}.${name}`, m);
        }
      }
    }
    this.head = this.registerModule('head', new Head(space, rng));
  }

  /** Runs stem -> body -> head; `runStage` runs one searchable stage. */
  protected run(x: Tensor, runStage: (stageIndex: number, x: Tensor) => Tensor): Tensor {
    const s = this.space.stem;
    if (x.rank !== 4 || x.shape[3] !== s.inChannels) {
      throw new Error(`network input must be NHWC with ${s.inChannels} channels, got shape [${x.shape.join(', ')}]`);
    }
    let y = this.stem.forward(x);
    for (const item of this.space.body) {
      y = item.kind === 'fixed' ? this.fixed.get(item.block.position)!.forward(y) : runStage(item.stage.index, y);
    }
    return this.head.forward(y);
  }
}
