import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runTfjs } from '../../src/io/export-check.ts';
import { exportMetadata } from '../../src/io/export-metadata.ts';
import { type TfjsModelJson, tfjsModel, writeTfjs } from '../../src/io/tfjs.ts';
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

const BATCH = 8;
const { dir, fmnist } = exportTestBed('cream-tfjs-');

/** Exports `t`, loads it with tf.loadLayersModel (pure-JS CPU backend) and runs real images. */
async function roundTrip(t: TestNetwork, name: string) {
  const { space, arch, net } = t;
  const size = space.resolution;
  const c = space.inputChannels;
  const x = fashionImages(BATCH, size, c)!;
  const graph = foldNetwork(net);
  const out = join(dir, name);
  writeTfjs(out, graph, exportMetadata(space, arch, 'NHWC'));
  const { logits, metadata } = await runTfjs(out, x, [BATCH, size, size, c]);
  const ours = new InferenceNetwork(graph).run(x, BATCH);
  const eager = referenceLogits(net, x, BATCH);
  return { out, metadata, vsFast: maxAbsDiff(logits, ours), vsEager: maxAbsDiff(logits, eager), scale: maxAbs(eager) };
}

function modelJson(out: string): TfjsModelJson {
  return JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
}

describe('TF.js layers export', { skip: HAVE_FASHION_MNIST ? false : 'Fashion-MNIST not installed' }, () => {
  test('fmnist child network: tf.loadLayersModel logits match our inference within 1e-4 on real images', async () => {
    const t = fmnist();
    const r = await roundTrip(t, 'fmnist');
    assert.ok(r.scale > 2, `logits too small to be a test (${r.scale})`);
    assert.ok(r.vsFast <= 1e-4, `max |tfjs - fast path| = ${r.vsFast}`);
    assert.ok(r.vsEager <= 1e-4, `max |tfjs - eval forward| = ${r.vsEager}`);
    const cost = childCost(t.space, FMNIST_ARCH);
    const meta = (r.metadata as { cream: Record<string, unknown> }).cream;
    assert.deepEqual(meta.arch, FMNIST_ARCH);
    assert.equal(meta.flops, cost.macs);
    assert.equal(meta.params, cost.params);
    assert.equal(meta.inputLayout, 'NHWC');
    // Stock layers only: no BN (folded), no custom classes, and not tfjs's 0.2x+0.5 hard sigmoid.
    const json = modelJson(r.out);
    const classes = new Set((json.modelTopology.config.layers as { class_name: string }[]).map((l) => l.class_name));
    assert.ok(!classes.has('BatchNormalization'));
    assert.ok(classes.has('DepthwiseConv2D') && classes.has('ZeroPadding2D') && classes.has('Multiply'));
    assert.ok(!JSON.stringify(json.modelTopology).includes('hardSigmoid'));
    assert.equal(json.format, 'layers-model');
  });

  test('fmnist+resblock', async () => {
    const t = trainedLikeNetwork('fmnist+resblock', RESBLOCK_ARCH);
    const r = await roundTrip(t, 'resblock');
    assert.ok(r.vsFast <= 1e-4 && r.vsEager <= 1e-4, `${r.vsFast} / ${r.vsEager}`);
    t.net.dispose();
  });

  test('imagenet+conv head variant at 32 px, several weight shards', async () => {
    const t = trainedLikeNetwork('imagenet+conv', IMAGENET_CONV_ARCH, { resolution: 32 });
    const r = await roundTrip(t, 'imagenet');
    assert.ok(r.vsFast <= 1e-4 && r.vsEager <= 1e-4, `${r.vsFast} / ${r.vsEager}`);
    assert.ok(modelJson(r.out).weightsManifest[0].paths.length > 1);
    t.net.dispose();
  });
});

describe('TF.js export files', () => {
  test('re-exporting into a folder replaces the model and drops shards it no longer lists', () => {
    const out = join(dir, 'again');
    mkdirSync(out);
    writeFileSync(join(out, 'group1-shard7of9.bin'), 'stale');
    writeFileSync(join(out, 'notes.txt'), 'kept');
    const t = fmnist();
    const r = writeTfjs(out, foldNetwork(t.net), exportMetadata(t.space, FMNIST_ARCH, 'NHWC'));
    assert.deepEqual(readdirSync(out).sort(), [...r.files, 'notes.txt'].sort());
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')), 'no staging folder left');
  });

  test('shards hold exactly the weights the manifest lists', () => {
    const t = fmnist();
    const { modelJson: json, shards } = tfjsModel(
      foldNetwork(t.net),
      exportMetadata(t.space, FMNIST_ARCH, 'NHWC'),
      1 << 20,
    );
    const bytes = shards.reduce((n, [, b]) => n + b.byteLength, 0);
    const listed = json.weightsManifest[0].weights.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(bytes, listed);
    assert.equal(shards.length, Math.ceil(bytes / (1 << 20)));
  });

  test('an op the exporter does not know is named, and no folder is created', () => {
    const space = loadSpace('fmnist');
    const net = new ChildNetwork(space, FMNIST_ARCH, new InitRandom(3));
    class Ghost extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    net.layers[0][0] = new Ghost();
    const out = join(dir, 'ghost');
    assert.throws(
      () => writeTfjs(out, foldNetwork(net), exportMetadata(space, FMNIST_ARCH, 'NHWC')),
      (e: Error) => e instanceof UnsupportedOpError && /op "k3e4" at blocks\.1\.0/.test(e.message),
    );
    assert.equal(existsSync(out), false);
    net.dispose();
  });
});
