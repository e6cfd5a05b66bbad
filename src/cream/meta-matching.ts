// The meta matching network M_theta of Eq. 4: it scores how well a board path would teach the
// current student from the difference of their softmax outputs on a small slice of the batch.
import { InitRandom, Linear, Module } from '../nn/index.ts';
import { relu, reshape, sigmoid, type Tensor } from '../tensor/index.ts';

export interface MetaMatchingOptions {
  /** Images of the batch slice whose outputs are compared (official: 4). */
  sliceSize: number;
  classes: number;
  /** 0: one linear layer (official). > 0: one hidden layer of this width with ReLU (paper text: 1,000). */
  hidden: number;
}

export class MetaMatchingNetwork extends Module {
  readonly inFeatures: number;
  readonly layers: Linear[];

  constructor(
    readonly options: MetaMatchingOptions,
    rng: InitRandom,
  ) {
    super();
    const { sliceSize, classes, hidden } = options;
    if (!(Number.isInteger(sliceSize) && sliceSize >= 1))
      throw new Error(`meta network: sliceSize must be >= 1, got ${sliceSize}`);
    if (!(Number.isInteger(hidden) && hidden >= 0)) throw new Error(`meta network: hidden must be >= 0, got ${hidden}`);
    this.inFeatures = sliceSize * classes;
    this.layers =
      hidden > 0
        ? [
            this.registerModule('fc1', new Linear(this.inFeatures, hidden, rng)),
            this.registerModule('fc2', new Linear(hidden, 1, rng)),
          ]
        : [this.registerModule('fc', new Linear(this.inFeatures, 1, rng))];
  }

  /**
   * rho_k = sigmoid(M(d_k)) for each row of `differences` [K, sliceSize * classes]
   * (d_k = softmax(teacher_k) - softmax(student) on the slice, flattened). Returns [K].
   */
  matchingScores(differences: Tensor): Tensor {
    if (differences.rank !== 2 || differences.shape[1] !== this.inFeatures) {
      throw new Error(
        `meta network: differences must be [K, ${this.inFeatures}], got [${differences.shape.join(', ')}]`,
      );
    }
    let h = this.layers[0].forward(differences);
    if (this.layers.length === 2) h = this.layers[1].forward(relu(h));
    return reshape(sigmoid(h), [differences.shape[0]]);
  }
}

export function createMetaMatchingNetwork(options: MetaMatchingOptions, seed: number): MetaMatchingNetwork {
  return new MetaMatchingNetwork(options, new InitRandom(seed));
}
