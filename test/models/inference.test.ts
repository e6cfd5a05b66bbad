import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChildNetwork } from '../../src/models/index.ts';
import { InferenceNetwork } from '../../src/models/inference.ts';
import { foldNetwork, UnsupportedOpError } from '../../src/models/inference-graph.ts';
import { InitRandom, Module } from '../../src/nn/index.ts';
import { loadSpace } from '../../src/space/index.ts';
import { memoryStats, Tensor } from '../../src/tensor/index.ts';
import {
  FMNIST_ARCH,
  fashionImages,
  IMAGENET_CONV_ARCH,
  maxAbs,
  maxAbsDiff,
  noiseImages,
  RESBLOCK_ARCH,
  referenceLogits,
  trainedLikeNetwork,
} from '../io/export-fixtures.ts';

const BATCH = 4;

function check(spaceName: string, arch: string[][], resolution?: number): void {
  const { space, net } = trainedLikeNetwork(spaceName, arch, { resolution });
  const size = space.resolution;
  const c = space.inputChannels;
  const x = fashionImages(BATCH, size, c) ?? noiseImages(BATCH, size, c, 9);
  const want = referenceLogits(net, x, BATCH);
  const fast = InferenceNetwork.fromNetwork(net);
  const got = fast.run(x, BATCH);
  assert.equal(got.length, BATCH * space.classes);
  const diff = maxAbsDiff(got, want);
  assert.ok(maxAbs(want) > 2, `logits too small to compare (${maxAbs(want)})`);
  assert.ok(diff <= 1e-4, `${spaceName}: max |fast - eval forward| = ${diff}`);
  // A second call reuses the buffers and gives the same answer.
  const again = fast.run(x, BATCH);
  assert.equal(again, got, 'the logits buffer is reused');
  assert.ok(maxAbsDiff(again, want) <= 1e-4);
  net.dispose();
}

describe('inference fast path', () => {
  test('fmnist child network: folded BN, no tape, matches the eval-mode forward within 1e-4', () => {
    check('fmnist', FMNIST_ARCH);
  });

  test('fmnist+resblock (ResNet bottlenecks with projection shortcuts)', () => {
    check('fmnist+resblock', RESBLOCK_ARCH);
  });

  test('imagenet+conv at 32 px (plain convs, fixed 1x1 conv block, features head with bias)', () => {
    check('imagenet+conv', IMAGENET_CONV_ARCH, 32);
  });

  test('tuned kernel choices (oneDNN vs own kernels, GEMM accumulating onto the residual) give the same logits', () => {
    const { space, net } = trainedLikeNetwork('fmnist+resblock', RESBLOCK_ARCH);
    const x = fashionImages(BATCH) ?? noiseImages(BATCH, 28, 1, 9);
    const want = referenceLogits(net, x, BATCH);
    const tuned = InferenceNetwork.fromNetwork(net, { tune: true });
    assert.ok(maxAbsDiff(tuned.run(x, BATCH), want) <= 1e-4);
    const choices = tuned.kernelChoices(BATCH);
    assert.ok(
      choices.some((c) => c.endsWith('gemm+residual')),
      choices.join('\n'),
    );
    // ResBlock conv3 accumulates onto its projection shortcut; MBConv conv_pwl onto the block input.
    assert.ok(choices.includes('blocks.1.0.conv3: gemm+residual'), choices.join('\n'));
    assert.ok(choices.includes('blocks.1.1.conv_pwl: gemm+residual'), choices.join('\n'));
    const profile = tuned.profile(x, BATCH, 3);
    assert.equal(profile[0].op, 'stem');
    assert.equal(profile[profile.length - 1].op, 'head.classifier');
    assert.ok(profile.some((p) => p.op === 'blocks.1.1.conv_pwl+blocks.1.1'));
    assert.ok(profile.every((p) => p.ms >= 0));
    assert.ok(maxAbsDiff(tuned.run(x, BATCH), want) <= 1e-4, 'profiling leaves the plan usable');
    assert.equal(space.classes, 10);
    net.dispose();
  });

  test('the fused pointwise kernel (default for small batches) gives the same logits at batch 1 and 4', () => {
    const { net } = trainedLikeNetwork('fmnist', FMNIST_ARCH);
    const images = fashionImages(4) ?? noiseImages(4, 28, 1, 9);
    const forced = InferenceNetwork.fromNetwork(net, { kernel: 'pointwise-fused' });
    const byDefault = InferenceNetwork.fromNetwork(net);
    for (const batch of [1, 4]) {
      const x = images.subarray(0, batch * 28 * 28);
      const want = referenceLogits(net, x, batch);
      assert.ok(maxAbsDiff(forced.run(x, batch), want) <= 1e-4, `batch ${batch}`);
      const pointwise = forced.kernelChoices(batch).filter((c) => c.endsWith('pointwise-fused'));
      assert.ok(pointwise.length >= 3, forced.kernelChoices(batch).join('\n'));
      assert.deepEqual(
        byDefault.kernelChoices(batch).filter((c) => c.endsWith('pointwise-fused')),
        pointwise,
        'small batches run it by default',
      );
      assert.ok(maxAbsDiff(byDefault.run(x, batch), want) <= 1e-4);
    }
    net.dispose();
  });

  test('folding changes the conv weights by the BN scale and leaves no BN op', () => {
    const { net } = trainedLikeNetwork('fmnist', FMNIST_ARCH);
    const g = foldNetwork(net);
    const kinds = new Set(g.ops.map((o) => o.kind));
    assert.deepEqual([...kinds].sort(), ['add', 'conv', 'dense', 'pool', 'se']);
    const stem = g.ops[0];
    assert.equal(stem.kind, 'conv');
    if (stem.kind !== 'conv') return;
    const bn = net.stem.bn;
    const s0 = bn.weight.f32[0] / Math.sqrt(bn.runningVar.f32[0] + bn.eps);
    assert.ok(Math.abs(stem.weight[0] - net.stem.conv.weight.f32[0] * s0) < 1e-6);
    assert.ok(Math.abs(stem.bias[0] - (bn.bias.f32[0] - bn.runningMean.f32[0] * s0)) < 1e-6);
    net.dispose();
  });

  test('repeated calls allocate no tensors and batch sizes get their own buffers', () => {
    const { space, net } = trainedLikeNetwork('fmnist', FMNIST_ARCH);
    const fast = InferenceNetwork.fromNetwork(net);
    const x2 = fashionImages(2) ?? noiseImages(2, 28, 1, 3);
    const x1 = x2.slice(0, 784);
    const one = fast.run(x1, 1).slice();
    fast.run(x2, 2);
    const before = memoryStats().liveStorages;
    for (let i = 0; i < 3; i++) fast.run(x1, 1);
    assert.equal(memoryStats().liveStorages, before);
    assert.deepEqual(fast.run(x1, 1), one);
    // The first image of a batch of two gives the same logits as alone.
    const first = fast.run(x2, 2).slice(0, space.classes);
    assert.ok(maxAbsDiff(first, fast.run(x1, 1)) <= 1e-5 * Math.max(1, maxAbs(first)));
    assert.throws(() => fast.run(x1, 2), /needs 1568/);
    const t = Tensor.from(x1, [1, 28, 28, 1]);
    const y = fast.forward(t);
    assert.deepEqual(y.shape, [1, 10]);
    assert.deepEqual(y.f32, one);
    assert.equal(y.requiresGrad, false);
    t.dispose();
    y.dispose();
    net.dispose();
  });

  test('a layer with a module the exporter does not know is named in the error', () => {
    const space = loadSpace('fmnist');
    const net = new ChildNetwork(space, FMNIST_ARCH, new InitRandom(1));
    class Mystery extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    net.layers[1][1] = new Mystery();
    assert.throws(
      () => foldNetwork(net),
      (e: Error) => {
        assert.ok(e instanceof UnsupportedOpError);
        assert.match(e.message, /op "k3e6" at blocks\.2\.1: module Mystery/);
        return true;
      },
    );
    net.dispose();
  });
});
