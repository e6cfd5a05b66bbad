import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChildNetwork, Supernet } from '../../src/models/index.ts';
import { InitRandom } from '../../src/nn/index.ts';
import { ArchSampler, childCost, loadSpace, Mulberry32, supernetParams } from '../../src/space/index.ts';
import { backward, crossEntropy, memoryStats, noGrad, Tensor, tidy } from '../../src/tensor/index.ts';
import { randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { tinySpace } from '../helpers/tiny-space.ts';

describe('supernet and child networks', () => {
  test('parameter counts equal the space counter (fmnist supernet, child networks)', () => {
    const space = loadSpace('fmnist');
    const supernet = new Supernet(space, new InitRandom(1));
    assert.equal(supernet.parameterCount(), supernetParams(space));
    const sampler = new ArchSampler(space);
    const rng = new Mulberry32(3);
    for (let i = 0; i < 3; i++) {
      const arch = sampler.sample(rng);
      const child = new ChildNetwork(space, arch, new InitRandom(2));
      assert.equal(child.parameterCount(), childCost(space, arch).params, JSON.stringify(arch));
      child.dispose();
    }
    supernet.dispose();
  });

  test('a child network with inherited weights computes what the supernet path computes', () => {
    const space = loadSpace('fmnist');
    const supernet = new Supernet(space, new InitRandom(1)).eval();
    const arch = [
      ['k3e4', 'skip', 'k7e6', 'skip'],
      ['k5e6', 'k3e6', 'skip', 'skip'],
      ['k7e4', 'k5e4', 'k3e6', 'k5e6'],
      ['k3e6', 'skip', 'skip', 'skip'],
    ];
    const child = new ChildNetwork(space, arch, new InitRandom(9)).eval();
    child.inheritFrom(supernet);
    const x = randomTensor([2, 28, 28, 1], testRandom(4));
    const [a, b] = noGrad(() => tidy(() => [supernet.forward(x, arch).clone(), child.forward(x).clone()]));
    const da = a.f32;
    const db = b.f32;
    for (let i = 0; i < da.length; i++) assert.ok(Math.abs(da[i] - db[i]) < 1e-5, `logit ${i}: ${da[i]} vs ${db[i]}`);
    for (const t of [a, b, x]) t.dispose();
    child.dispose();
    supernet.dispose();
  });

  test('gradients flow only into the sampled path', () => {
    const space = tinySpace();
    const supernet = new Supernet(space, new InitRandom(1));
    const path = [
      ['k5e2', 'skip'],
      ['k3e4', 'k3e2'],
    ];
    const x = randomTensor([4, 8, 8, 1], testRandom(2));
    const labels = Tensor.from([0, 1, 2, 1], [4], 'int32');
    tidy(() => backward(crossEntropy(supernet.forward(x, path), labels)));
    const onPath = new Set([...supernet.pathParameters(path)].map(([n]) => n));
    let off = 0;
    for (const [name, p] of supernet.namedParameters()) {
      if (onPath.has(name)) assert.ok(p.grad, `${name} is on the path but has no gradient`);
      else {
        assert.equal(p.grad, null, `${name} is off the path but has a gradient`);
        off++;
      }
    }
    assert.ok(off > 0);
    assert.ok([...onPath].some((n) => n.includes('.k5e2.')));
    assert.ok(![...onPath].some((n) => n.includes('.k3e2.') && n.startsWith('blocks.1.')));
    // zeroGrad reaches every nested module's parameters (it walks the tree, not namedParameters).
    const live = memoryStats().liveStorages;
    supernet.zeroGrad();
    for (const [name, p] of supernet.namedParameters()) assert.equal(p.grad, null, `${name} kept its gradient`);
    assert.equal(memoryStats().liveStorages, live - onPath.size, 'zeroGrad frees each gradient once');
    supernet.dispose();
    x.dispose();
    labels.dispose();
  });
});
