// Training must not leak: after warm-up, the live tensor count, the live bytes and the pool stay
// flat over thousands of supernet steps with changing paths (shapes vary, so the pool is exercised).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Supernet } from '../../src/models/index.ts';
import { InitRandom } from '../../src/nn/index.ts';
import { SGD } from '../../src/optim/index.ts';
import { ArchSampler, Mulberry32 } from '../../src/space/index.ts';
import { backward, crossEntropy, memoryStats, noGrad, Tensor, tidy } from '../../src/tensor/index.ts';
import { randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { tinySpace } from '../helpers/tiny-space.ts';

const STEPS = Number(process.env.CREAM_MEMORY_STEPS ?? 2000);

test(`memory stays flat over ${STEPS} supernet training steps`, () => {
  const space = tinySpace();
  const supernet = new Supernet(space, new InitRandom(1));
  const opt = new SGD(supernet.namedParameters(), { momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const sampler = new ArchSampler(space);
  const rng = new Mulberry32(5);
  const x = randomTensor([4, 8, 8, 1], testRandom(1));
  const y = Tensor.from([0, 1, 2, 0], [4], 'int32');
  const step = () =>
    tidy(() => {
      supernet.zeroGrad();
      backward(crossEntropy(supernet.forward(x, sampler.sample(rng)), y));
      noGrad(() => opt.step(0.01));
    });
  // Warm-up: every op and its optimiser state gets created.
  for (let i = 0; i < 300; i++) step();
  const base = memoryStats();
  let peakLive = 0;
  for (let i = 0; i < STEPS; i++) {
    step();
    peakLive = Math.max(peakLive, memoryStats().liveBytes);
  }
  const after = memoryStats();
  // Gradients of off-path parameters are disposed at the next zeroGrad, so allow one step's worth.
  assert.ok(after.liveStorages <= base.liveStorages + 64, `live tensors ${base.liveStorages} -> ${after.liveStorages}`);
  assert.ok(after.liveBytes <= base.liveBytes * 1.05 + 65536, `live bytes ${base.liveBytes} -> ${after.liveBytes}`);
  assert.ok(after.pooledBytes <= base.pooledBytes * 1.05 + 65536, `pool ${base.pooledBytes} -> ${after.pooledBytes}`);
  assert.ok(peakLive < base.liveBytes * 3 + 1e6, `live bytes peaked at ${peakLive}`);
  supernet.dispose();
  opt.dispose();
});
