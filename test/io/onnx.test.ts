import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runOnnx } from '../../src/io/export-check.ts';
import { exportMetadata, parseMetadataProps } from '../../src/io/export-metadata.ts';
import { encodeOnnx, ONNX_OPSET, writeOnnx } from '../../src/io/onnx.ts';
import { readOnnxSummary } from '../../src/io/onnx-proto.ts';
import { ChildNetwork } from '../../src/models/index.ts';
import { InferenceNetwork } from '../../src/models/inference.ts';
import { foldNetwork, UnsupportedOpError } from '../../src/models/inference-graph.ts';
import { InitRandom, Module } from '../../src/nn/index.ts';
import { childCost, loadSpace } from '../../src/space/index.ts';
import type { Tensor } from '../../src/tensor/index.ts';
import {
  exportTestBed,
  FMNIST_ARCH,
  fashionImages,
  HAVE_FASHION_MNIST,
  IMAGENET_CONV_ARCH,
  maxAbs,
  maxAbsDiff,
  RESBLOCK_ARCH,
  referenceLogits,
  type TestNetwork,
  trainedLikeNetwork,
} from './export-fixtures.ts';

const BATCH = 16;
const { dir, fmnist } = exportTestBed('cream-onnx-');

/** Exports `t` to ONNX, runs it in onnxruntime-node on real images; returns the worst differences. */
async function roundTrip(t: TestNetwork, layout: 'NCHW' | 'NHWC' = 'NCHW') {
  const { space, arch, net } = t;
  const size = space.resolution;
  const c = space.inputChannels;
  const x = fashionImages(BATCH, size, c)!;
  const graph = foldNetwork(net);
  const file = join(dir, `${space.name}-${layout}.onnx`);
  writeOnnx(file, graph, exportMetadata(space, arch, layout), { layout });
  const ort = await runOnnx(file, x, [BATCH, size, size, c], layout);
  const ours = new InferenceNetwork(graph).run(x, BATCH);
  const eager = referenceLogits(net, x, BATCH);
  return { file, ort, vsFast: maxAbsDiff(ort, ours), vsEager: maxAbsDiff(ort, eager), scale: maxAbs(eager) };
}

describe('ONNX export', { skip: HAVE_FASHION_MNIST ? false : 'Fashion-MNIST not installed' }, () => {
  test('fmnist child network: onnxruntime-node logits match our inference within 1e-4 on real images', async () => {
    const t = fmnist();
    const r = await roundTrip(t);
    assert.ok(r.scale > 2, `logits too small to be a test (${r.scale})`);
    assert.ok(r.vsFast <= 1e-4, `max |ort - fast path| = ${r.vsFast}`);
    assert.ok(r.vsEager <= 1e-4, `max |ort - eval forward| = ${r.vsEager}`);

    const s = readOnnxSummary(readFileSync(r.file));
    assert.ok(s.opsetVersion >= 13 && s.opsetVersion === ONNX_OPSET);
    assert.deepEqual(s.inputs, [{ name: 'input', dims: ['batch', 1, 28, 28] }]);
    assert.deepEqual(s.outputs, [{ name: 'logits', dims: ['batch', 10] }]);
    assert.ok(!s.opTypes.includes('BatchNormalization'), 'BN is folded into the convolutions');
    assert.ok(s.opTypes.includes('HardSigmoid') && s.opTypes.includes('GlobalAveragePool'));
    const meta = parseMetadataProps(s.metadata);
    const cost = childCost(t.space, FMNIST_ARCH);
    assert.deepEqual(meta.arch, FMNIST_ARCH);
    assert.equal(meta.space, 'fmnist');
    assert.equal(meta.flops, cost.macs);
    assert.equal(meta.params, cost.params);
    assert.equal(meta.params, t.net.parameterCount());
    assert.equal(meta.inputLayout, 'NCHW');
  });

  test('NHWC input layout (a Transpose first) gives the same logits', async () => {
    const a = await roundTrip(fmnist(), 'NCHW');
    const b = await roundTrip(fmnist(), 'NHWC');
    assert.ok(maxAbsDiff(a.ort, b.ort) <= 1e-5);
    assert.equal(readOnnxSummary(readFileSync(b.file)).opTypes[0], 'Transpose');
  });

  test('fmnist+resblock (bottlenecks, projection shortcuts, activation after the add)', async () => {
    const t = trainedLikeNetwork('fmnist+resblock', RESBLOCK_ARCH);
    const r = await roundTrip(t);
    assert.ok(r.vsFast <= 1e-4 && r.vsEager <= 1e-4, `${r.vsFast} / ${r.vsEager}`);
    t.net.dispose();
  });

  test('imagenet+conv head variant at 32 px (conv ops, fixed 1x1 block, features conv with bias, 1000 classes)', async () => {
    const t = trainedLikeNetwork('imagenet+conv', IMAGENET_CONV_ARCH, { resolution: 32 });
    const r = await roundTrip(t);
    assert.ok(r.vsFast <= 1e-4 && r.vsEager <= 1e-4, `${r.vsFast} / ${r.vsEager}`);
    t.net.dispose();
  });
});

describe('ONNX export errors', () => {
  test('an op the exporter does not know is named, and no file is written (an old one stays)', () => {
    const space = loadSpace('fmnist');
    const net = new ChildNetwork(space, FMNIST_ARCH, new InitRandom(3));
    class Ghost extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    net.layers[2][3] = new Ghost();
    const file = join(dir, 'ghost.onnx');
    const fail = () => writeOnnx(file, foldNetwork(net), exportMetadata(space, FMNIST_ARCH, 'NCHW'));
    assert.throws(
      fail,
      (e: Error) => e instanceof UnsupportedOpError && /op "k5e6" at blocks\.3\.3: module Ghost/.test(e.message),
    );
    assert.equal(existsSync(file), false);
    writeFileSync(file, 'previous export');
    assert.throws(fail, UnsupportedOpError);
    assert.equal(readFileSync(file, 'utf8'), 'previous export');
    net.dispose();
  });

  test('the encoder is deterministic', () => {
    const g = foldNetwork(fmnist().net);
    const m = exportMetadata(fmnist().space, FMNIST_ARCH, 'NCHW');
    assert.deepEqual(encodeOnnx(g, m), encodeOnnx(g, m));
  });
});
