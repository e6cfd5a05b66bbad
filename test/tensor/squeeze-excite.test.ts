import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  backward,
  globalAvgPool,
  hardSigmoid,
  linear,
  mulChannel,
  native,
  noGrad,
  relu,
  squeezeExcite,
  type Tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { gradCheck, randomTensor, testRandom } from '../helpers/gradcheck.ts';

/** The same squeeze-excite composed from single ops (what src/nn/squeeze-excite.ts did before). */
function composed(x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor {
  return mulChannel(x, hardSigmoid(linear(relu(linear(globalAvgPool(x), w1, b1)), w2, b2)));
}

type Se = typeof composed;

/** Output and all five gradients of `se` for one upstream gradient, as plain arrays. */
function run(se: Se, inputs: Tensor[], gy: Tensor): number[][] {
  for (const t of inputs) {
    t.requiresGrad = true;
    t.grad = null;
  }
  const out: number[][] = [];
  tidy(() => {
    const [x, w1, b1, w2, b2] = inputs;
    const y = se(x, w1, b1, w2, b2);
    out.push(Array.from(y.f32));
    backward(y, gy);
  });
  for (const t of inputs) out.push(Array.from(t.grad?.f32 ?? []));
  return out;
}

function seInputs(n: number, h: number, c: number, r: number, seed: number): Tensor[] {
  const rand = testRandom(seed);
  // Gate inputs spread over hard-sigmoid's linear part and both flat ends.
  return [
    randomTensor([n, h, h, c], rand, -3, 3),
    randomTensor([c, r], rand),
    randomTensor([r], rand),
    randomTensor([r, c], rand, -2, 2),
    randomTensor([c], rand, -2, 2),
  ];
}

describe('squeezeExcite', () => {
  for (const [n, h, c, r] of [
    [2, 28, 16, 8], // the DS block of the fmnist space
    [3, 5, 20, 8], // channels not a multiple of 8 (vector tails)
    [4, 7, 320, 80],
  ]) {
    test(`output and every gradient equal the composed ops bit for bit, x [${n}, ${h}, ${h}, ${c}]`, () => {
      const inputs = seInputs(n, h, c, r, n * 100 + c);
      const gy = randomTensor([n, h, h, c], testRandom(5));
      const fused = run(squeezeExcite, inputs, gy);
      const reference = run(composed, inputs, gy);
      const names = ['y', 'gx', 'gwReduce', 'gbReduce', 'gwExpand', 'gbExpand'];
      fused.forEach((values, i) => {
        assert.equal(values.length, reference[i].length, names[i]);
        assert.ok(values.length > 0, `${names[i]} is empty`);
        const firstDiff = values.findIndex((v, k) => !Object.is(v, reference[i][k]));
        assert.equal(firstDiff, -1, `${names[i]}[${firstDiff}]: ${values[firstDiff]} vs ${reference[i][firstDiff]}`);
      });
      for (const t of [...inputs, gy]) t.dispose();
    });
  }

  test('gradients match finite differences', () => {
    const inputs = seInputs(2, 3, 10, 4, 9);
    gradCheck(([x, w1, b1, w2, b2]) => squeezeExcite(x, w1, b1, w2, b2), inputs, { eps: 1e-2, tolerance: 2e-2 });
  });

  test('only the weights may need gradients, and nothing is recorded under noGrad', () => {
    const [x, w1, b1, w2, b2] = seInputs(2, 4, 8, 8, 3);
    for (const t of [w1, b1, w2, b2]) t.requiresGrad = true;
    tidy(() => {
      backward(squeezeExcite(x, w1, b1, w2, b2), randomTensor([2, 4, 4, 8], testRandom(1)));
    });
    assert.equal(x.grad, null);
    for (const t of [w1, b1, w2, b2]) assert.ok(t.grad?.f32.some((v) => v !== 0));
    const y = noGrad(() => squeezeExcite(x, w1, b1, w2, b2));
    assert.equal(y.node, null);
    assert.equal(y.requiresGrad, false);
  });

  test('shape errors name the argument and the shapes', () => {
    const [x, w1, b1, w2, b2] = seInputs(1, 2, 8, 4, 4);
    assert.throws(() => squeezeExcite(x, w2, b1, w2, b2), /squeezeExcite: wReduce .*\[4, 8\]/);
    assert.throws(() => squeezeExcite(x, w1, b2, w2, b2), /squeezeExcite: bReduce/);
    assert.throws(() => squeezeExcite(x, w1, b1, w1, b2), /squeezeExcite: wExpand/);
    assert.throws(() => squeezeExcite(w1, w1, b1, w2, b2), /squeezeExcite: x/);
  });

  test('seInference (the inference path, one native call) matches the op, in place too, over channel tails', () => {
    // 1 image (no threads), 3 images (in parallel), C and R not multiples of 8, HW of 1.
    for (const [n, h, c, r] of [
      [1, 5, 20, 6],
      [3, 4, 37, 9],
      [2, 1, 8, 8],
    ]) {
      const inputs = seInputs(n, h, c, r, 5);
      const [x, w1, b1, w2, b2] = inputs;
      const want = noGrad(() => squeezeExcite(x, w1, b1, w2, b2));
      const y = new Float32Array(x.size);
      native.seInference(x.f32, w1.f32, b1.f32, w2.f32, b2.f32, n, h * h, c, r, y);
      const diff = (got: Float32Array) => Math.max(...got.map((v, i) => Math.abs(v - want.f32[i])));
      assert.ok(diff(y) < 1e-5, `[${n}, ${h}, ${h}, ${c}] r ${r}: ${diff(y)}`);
      const inPlace = x.f32.slice();
      native.seInference(inPlace, w1.f32, b1.f32, w2.f32, b2.f32, n, h * h, c, r, inPlace);
      assert.ok(diff(inPlace) < 1e-5, 'in place');
      for (const t of [...inputs, want]) t.dispose();
    }
    const [x, w1, b1, w2, b2] = seInputs(1, 2, 8, 4, 4);
    assert.throws(
      () => native.seInference(x.f32, w1.f32, b2.f32, w2.f32, b2.f32, 1, 4, 8, 4, new Float32Array(32)),
      /seInference: bReduce has 8 elements, expected 4/,
    );
    assert.throws(
      () => native.seInference(x.f32, w1.f32, b1.f32, w2.f32, b2.f32, 1, 4, 8, 4, new Float32Array(31)),
      /seInference: y has 31 elements, expected 32/,
    );
  });
});
