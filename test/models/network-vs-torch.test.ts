// The whole child network (stem, depthwise-separable block, MBConv blocks with SE, BN in training
// mode, head) against PyTorch on the same weights (fixture: scripts/fixtures/network.py): one step's
// logits, loss, every gradient and the BN running statistics; then 200 SGD steps on synthetic data,
// whose loss curve must follow PyTorch's and whose accuracy must be reached.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readSafetensorsSync } from '../../src/io/safetensors.ts';
import { ChildNetwork } from '../../src/models/index.ts';
import { InitRandom } from '../../src/nn/index.ts';
import { SGD } from '../../src/optim/index.ts';
import { loadSpace } from '../../src/space/index.ts';
import { backward, crossEntropy, noGrad, Tensor, tidy } from '../../src/tensor/index.ts';

const fixture = readSafetensorsSync(fileURLToPath(new URL('../fixtures/torch/network.safetensors', import.meta.url)));
const desc = JSON.parse(readFileSync(new URL('../fixtures/torch/network-desc.json', import.meta.url), 'utf8'));
const space = loadSpace(fileURLToPath(new URL('../fixtures/search/tiny28-space.yaml', import.meta.url)));

function group(prefix: string): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of Object.entries(fixture.tensors)) {
    if (k.startsWith(prefix)) out.set(k.slice(prefix.length), { shape: t.shape, data: t.data as Float32Array });
  }
  return out;
}

function fresh(): ChildNetwork {
  const net = new ChildNetwork(space, desc.arch, new InitRandom(1));
  net.loadStateDict(group('init/'));
  return net;
}

/**
 * Max abs error relative to the tensor's largest value. The floor of 1e-3 matters for gradients that
 * are zero up to round-off (a BN bias whose output feeds another training-mode BN: its gradient
 * sums to ~1e-9 in both frameworks).
 */
function maxRelError(actual: Float32Array, expected: Float32Array): number {
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < expected.length; i++) err = Math.max(err, Math.abs(actual[i] - expected[i]));
  return err / Math.max(scale, 1e-3);
}

/** The synthetic data set of the fixture script, computed the same way (integer hashing). */
function syntheticImage(i: number, size = 28): Float32Array {
  const c = i % 10;
  const img = new Float32Array(size * size);
  for (let h = 0; h < size; h++) {
    for (let w = 0; w < size; w++) {
      const x = i * 7919 + h * 31 + w * 17;
      const noise = (Math.imul(x, 2654435761 | 0) >>> 0) / 4294967296 - 0.5;
      img[h * size + w] = Math.sin((h + 1) * (c + 1) * 0.3) * Math.cos((w + 1) * 0.2 * (c + 2)) + 2.0 * noise;
    }
  }
  return img;
}

describe('child network against PyTorch', () => {
  test('one training step: logits, loss, all gradients and BN statistics (rel. error <= 1e-4)', () => {
    const net = fresh();
    const x = fixture.tensors['step/x'];
    const y = fixture.tensors['step/labels'];
    const images = Tensor.from(x.data as Float32Array, x.shape);
    const labels = Tensor.from(y.data as Int32Array, y.shape, 'int32');
    tidy(() => {
      const logits = net.forward(images);
      const loss = crossEntropy(logits, labels, { labelSmoothing: 0.1 });
      assert.ok(maxRelError(logits.f32, fixture.tensors['step/logits'].data as Float32Array) < 1e-4, 'logits');
      assert.ok(Math.abs(loss.item() - (fixture.tensors['step/loss'].data as Float32Array)[0]) < 1e-5, 'loss');
      backward(loss);
    });
    const params = new Map(net.namedParameters());
    const grads = group('grad/');
    assert.equal(grads.size, params.size);
    for (const [name, g] of grads) {
      const err = maxRelError(params.get(name)!.grad!.f32, g.data);
      assert.ok(err < 1e-4, `gradient of ${name}: relative error ${err}`);
    }
    const buffers = new Map(net.namedBuffers());
    for (const [name, s] of group('stats/')) {
      const err = maxRelError(buffers.get(name)!.f32, s.data);
      assert.ok(err < 1e-4, `${name}: relative error ${err}`);
    }
    net.dispose();
  });

  test('200 SGD steps on synthetic data follow the PyTorch loss curve and reach its accuracy', () => {
    const meta = fixture.metadata;
    const steps = Number(meta.steps);
    const batch = Number(meta.batch);
    const size = Number(meta.dataset);
    const expected = fixture.tensors['curve/losses'].data as Float32Array;
    const net = fresh();
    const opt = new SGD(net.namedParameters(), { momentum: 0.9, nesterov: true });
    const images = Array.from({ length: size }, (_, i) => syntheticImage(i));
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const x = Tensor.empty([batch, 28, 28, 1]);
      const y = Tensor.empty([batch], 'int32');
      for (let j = 0; j < batch; j++) {
        const i = (s * batch + j) % size;
        x.f32.set(images[i], j * 784);
        y.i32[j] = i % 10;
      }
      losses.push(
        tidy(() => {
          net.zeroGrad();
          const loss = crossEntropy(net.forward(x), y);
          backward(loss);
          noGrad(() => opt.step(Number(meta.lr)));
          return loss.item();
        }),
      );
      x.dispose();
      y.dispose();
    }
    // Float32 round-off grows through training, so: tight at the start, a smoothed curve later.
    for (let s = 0; s < 10; s++) {
      assert.ok(
        Math.abs(losses[s] - expected[s]) < 1e-3 * Math.max(1, expected[s]),
        `step ${s}: ${losses[s]} vs ${expected[s]}`,
      );
    }
    const window = 20;
    for (let s = 0; s + window <= steps; s += window) {
      const ours = losses.slice(s, s + window).reduce((a, b) => a + b, 0) / window;
      const theirs = Array.from(expected.slice(s, s + window)).reduce((a, b) => a + b, 0) / window;
      assert.ok(
        Math.abs(ours - theirs) < 0.05 + 0.05 * theirs,
        `steps ${s}-${s + window}: mean loss ${ours} vs ${theirs}`,
      );
    }
    // Accuracy over the whole synthetic set in inference mode.
    net.eval();
    let hits = 0;
    noGrad(() =>
      tidy(() => {
        const x = Tensor.empty([size, 28, 28, 1]);
        images.forEach((img, i) => {
          x.f32.set(img, i * 784);
        });
        const logits = net.forward(x).f32;
        for (let i = 0; i < size; i++) {
          let arg = 0;
          for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + arg]) arg = c;
          if (arg === i % 10) hits++;
        }
      }),
    );
    const torchAccuracy = (fixture.tensors['curve/accuracy'].data as Float32Array)[0];
    const accuracy = hits / size;
    assert.ok(accuracy >= 0.9, `accuracy ${accuracy} below the stated 0.9`);
    assert.ok(Math.abs(accuracy - torchAccuracy) <= 0.05, `accuracy ${accuracy} vs PyTorch ${torchAccuracy}`);
    net.dispose();
    opt.dispose();
  });
});
