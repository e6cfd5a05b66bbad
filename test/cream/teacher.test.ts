// Teacher selection (the paper's ablation modes) and the loss weighting of Eq. 5.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BoardEntry } from '../../src/cream/board.ts';
import { distillationLoss, lossWeights } from '../../src/cream/distillation.ts';
import { createMetaMatchingNetwork } from '../../src/cream/meta-matching.ts';
import { chooseTeacher, largestPath } from '../../src/cream/teacher.ts';
import { Supernet } from '../../src/models/index.ts';
import { InitRandom } from '../../src/nn/index.ts';
import { costTable, Mulberry32 } from '../../src/space/index.ts';
import { noGrad, softmax, Tensor, tidy } from '../../src/tensor/index.ts';
import { randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { tinySpace } from '../helpers/tiny-space.ts';

const entry = (arch: string[][], accuracy: number, flops: number): BoardEntry => ({
  arch,
  key: JSON.stringify(arch),
  accuracy,
  flops,
  enteredAtStep: 0,
});

describe('teacher selection', () => {
  const space = tinySpace();
  const supernet = new Supernet(space, new InitRandom(1));
  const meta = createMetaMatchingNetwork({ sliceSize: 2, classes: 3, hidden: 0 }, 2);
  const board = [
    entry(
      [
        ['k3e2', 'skip'],
        ['k3e2', 'skip'],
      ],
      0.5,
      100,
    ),
    entry(
      [
        ['k5e2', 'k3e4'],
        ['k3e4', 'k5e2'],
      ],
      0.7,
      300,
    ),
    entry(
      [
        ['k3e4', 'k3e4'],
        ['k3e2', 'skip'],
      ],
      0.7,
      200,
    ),
  ];
  const slice = randomTensor([2, 8, 8, 1], testRandom(3));
  const studentSliceLogits = new Float32Array([0.1, 0.2, -0.3, 0.5, 0.0, -0.1]);
  const args = {
    board,
    supernet,
    meta,
    slice,
    studentSliceLogits,
    largest: largestPath(costTable(space), space),
    fixedRho: 0.5,
    rng: new Mulberry32(4),
  };

  test('none and an empty board give no teacher; largest is the most expensive path', () => {
    assert.equal(chooseTeacher({ ...args, mode: 'none' }), null);
    assert.equal(chooseTeacher({ ...args, mode: 'meta', board: [] }), null);
    const largest = chooseTeacher({ ...args, mode: 'largest' })!;
    const table = costTable(space);
    largest.arch.forEach((ops, s) => {
      ops.forEach((op, l) => {
        for (const other of space.stages[s].layerInfo[l].candidateNames) {
          assert.ok(table.layerCost(s, l, other).macs <= table.layerCost(s, l, op).macs, `${other} beats ${op}`);
        }
      });
    });
    assert.equal(largest.arch[0][0], 'k3e4', 'the widest expansion, not the widest kernel, costs most here');
    assert.equal(largest.rho, 0.5);
  });

  test('top1 takes the most accurate board path, fewer FLOPs on ties; random stays on the board', () => {
    assert.equal(chooseTeacher({ ...args, mode: 'top1' })!.boardIndex, 2);
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) seen.add(chooseTeacher({ ...args, mode: 'random' })!.boardIndex!);
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
  });

  test('meta picks the argmax of rho = sigmoid(M(d_k)) and returns that rho', () => {
    const choice = tidy(() => {
      const c = chooseTeacher({ ...args, mode: 'meta' })!;
      return { index: c.boardIndex!, rho: c.rho, scores: Array.from(c.scores!.f32) };
    });
    assert.equal(choice.scores.length, 3);
    const best = choice.scores.indexOf(Math.max(...choice.scores));
    assert.equal(choice.index, best);
    assert.equal(choice.rho, choice.scores[best]);
    // Recompute rho of the chosen path by hand: d = softmax(teacher(slice)) - softmax(student).
    const manual = noGrad(() =>
      tidy(() => {
        supernet.train();
        supernet.head.dropoutEnabled = false;
        const t = softmax(supernet.forward(slice, board[best].arch)).f32;
        const s = softmax(Tensor.from(studentSliceLogits, [2, 3])).f32;
        const d = Tensor.from(
          Array.from(t, (v, i) => v - s[i]),
          [1, 6],
        );
        supernet.head.dropoutEnabled = true;
        return meta.matchingScores(d).item();
      }),
    );
    assert.ok(Math.abs(manual - choice.rho) < 1e-5, `${manual} vs ${choice.rho}`);
  });
});

describe('loss weighting', () => {
  test('paper: CE + rho KD; official: (rho KD + (2 - rho) CE) / 2', () => {
    assert.deepEqual(lossWeights(0.3, 'paper'), { ce: 1, kd: 0.3 });
    assert.deepEqual(lossWeights(0.5, 'official'), { ce: 0.75, kd: 0.25 });
    assert.throws(() => lossWeights(1.5, 'paper'), /rho must be in \[0, 1\], got 1.5/);
    tidy(() => {
      const logits = Tensor.from([1, 2, 0.5, -1, 0, 2], [2, 3]);
      const labels = Tensor.from([1, 2], [2], 'int32');
      const teacher = Tensor.from([0.2, 0.5, 0.3, 0.1, 0.1, 0.8], [2, 3]);
      const l = distillationLoss(logits, labels, teacher, 0.4, { labelSmoothing: 0, weighting: 'paper' });
      assert.ok(Math.abs(l.total.item() - (l.ce.item() + 0.4 * l.kd!.item())) < 1e-6);
      const o = distillationLoss(logits, labels, teacher, 0.4, { labelSmoothing: 0, weighting: 'official' });
      assert.ok(Math.abs(o.total.item() - (0.8 * o.ce.item() + 0.2 * o.kd!.item())) < 1e-6);
      const none = distillationLoss(logits, labels, null, 0, { labelSmoothing: 0, weighting: 'paper' });
      assert.equal(none.kd, null);
      assert.equal(none.total.item(), none.ce.item());
    });
  });
});
