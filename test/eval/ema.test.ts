// The weight EMA against a hand computation: ema <- decay * ema + (1 - decay) * p for parameters,
// buffers copied; the warm-up rule of retraining; and copying the average into a second network.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Module } from '../../src/nn/index.ts';
import { WeightEma } from '../../src/optim/index.ts';
import { emaDecayAt, updateEma } from '../../src/retrain/ema-schedule.ts';
import { Tensor } from '../../src/tensor/index.ts';

class Toy extends Module {
  readonly w: Tensor;
  readonly stat: Tensor;
  constructor(w: number[], stat: number[]) {
    super();
    this.w = this.registerParameter('w', Tensor.from(w));
    this.stat = this.registerBuffer('stat', Tensor.from(stat));
  }
}

const close = (actual: ArrayLike<number>, expected: number[], what: string) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) < 1e-6, `${what}[${i}]: ${actual[i]}, by hand ${expected[i]}`);
  }
};

describe('WeightEma', () => {
  test('follows the hand computation step by step; buffers are copied, not averaged', () => {
    const model = new Toy([1, 2], [10, 20]);
    const ema = new WeightEma(model, 0.9);
    close(ema.shadow.get('w')!.f32, [1, 2], 'initial shadow');
    model.w.f32.set([3, 4]);
    model.stat.f32.set([11, 21]);
    ema.update(model);
    // 0.9 * 1 + 0.1 * 3 = 1.2; 0.9 * 2 + 0.1 * 4 = 2.2
    close(ema.shadow.get('w')!.f32, [1.2, 2.2], 'after update 1');
    close(ema.shadow.get('stat')!.f32, [11, 21], 'buffer after update 1');
    model.w.f32.set([0, -1]);
    ema.update(model);
    // 0.9 * 1.2 + 0 = 1.08; 0.9 * 2.2 + 0.1 * -1 = 1.88
    close(ema.shadow.get('w')!.f32, [1.08, 1.88], 'after update 2');
    const other = new Toy([0, 0], [0, 0]);
    ema.copyTo(other);
    close(other.w.f32, [1.08, 1.88], 'copied weights');
    close(other.stat.f32, [11, 21], 'copied buffer');
    close(model.w.f32, [0, -1], 'the trained model is untouched');
    ema.dispose();
    model.dispose();
    other.dispose();
  });

  test('rejects a decay outside [0, 1)', () => {
    const model = new Toy([1], [1]);
    assert.throws(() => new WeightEma(model, 1), /decay must be in \[0, 1\)/);
    model.dispose();
  });
});

describe('EMA warm-up (TensorFlow num_updates rule)', () => {
  test('decay is min(decay, (1 + t) / (10 + t)); off means constant', () => {
    assert.equal(emaDecayAt(0.999, true, 0), 0.1);
    assert.equal(emaDecayAt(0.999, true, 90), 0.91);
    assert.equal(emaDecayAt(0.999, true, 1e6), 0.999);
    assert.equal(emaDecayAt(0.999, false, 0), 0.999);
  });

  test('updateEma with a per-update decay matches the hand computation', () => {
    const model = new Toy([1, 2], [5, 6]);
    const ema = new WeightEma(model, 0.99);
    model.w.f32.set([3, 6]);
    model.stat.f32.set([7, 8]);
    updateEma(ema, model, emaDecayAt(0.99, true, 0)); // decay 0.1: 0.1 * 1 + 0.9 * 3 = 2.8; 0.1 * 2 + 0.9 * 6 = 5.6
    close(ema.shadow.get('w')!.f32, [2.8, 5.6], 'warm-up update');
    close(ema.shadow.get('stat')!.f32, [7, 8], 'buffer');
    model.w.f32.set([1, 1]);
    updateEma(ema, model, 0.99); // WeightEma's own path: 0.99 * 2.8 + 0.01 = 2.782; 0.99 * 5.6 + 0.01 = 5.554
    close(ema.shadow.get('w')!.f32, [2.782, 5.554], 'full-decay update');
    ema.dispose();
    model.dispose();
  });
});
