// The meta-network gradient of Eq. 6 against a finite-difference derivative of R(theta), where
// R(theta) = CE(validation batch; w - eta (g_CE + rho(theta) g_KD)).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetaMatchingNetwork } from '../../src/cream/meta-matching.ts';
import { lookaheadRhoGradient } from '../../src/cream/meta-update.ts';
import { Supernet } from '../../src/models/index.ts';
import { InitRandom } from '../../src/nn/index.ts';
import {
  backward,
  crossEntropy,
  keep,
  native,
  noGrad,
  softmax,
  softTargetCrossEntropy,
  Tensor,
  tidy,
} from '../../src/tensor/index.ts';
import { randomTensor, testRandom } from '../helpers/gradcheck.ts';
import { tinySpace } from '../helpers/tiny-space.ts';

test('meta gradient equals the finite-difference derivative of R(theta)', () => {
  const space = tinySpace();
  const supernet = new Supernet(space, new InitRandom(5));
  const student = [
    ['k3e2', 'k5e2'],
    ['k3e4', 'skip'],
  ];
  const teacher = [
    ['k5e2', 'k3e4'],
    ['k5e2', 'k3e2'],
  ];
  const rand = testRandom(11);
  const x = randomTensor([6, 8, 8, 1], rand);
  const labels = Tensor.from([0, 1, 2, 0, 1, 2], [6], 'int32');
  const xVal = randomTensor([6, 8, 8, 1], rand);
  const yVal = Tensor.from([2, 1, 0, 0, 2, 1], [6], 'int32');
  const eta = 0.5;
  const params = [...supernet.pathParameters(student)];
  const buffers = supernet.pathModules(student).flatMap((m) => [...m.namedBuffers()].map(([, b]) => b));
  const bufferSnapshot = buffers.map((b) => b.f32.slice());
  const restoreBuffers = () => {
    buffers.forEach((b, i) => {
      b.f32.set(bufferSnapshot[i]);
    });
  };

  const teacherProbs = keep(noGrad(() => tidy(() => softmax(supernet.forward(x, teacher)).clone())));
  const gradsOf = (loss: 'ce' | 'kd'): Map<string, Tensor> => {
    supernet.zeroGrad();
    tidy(() => {
      const logits = supernet.forward(x, student);
      backward(loss === 'ce' ? crossEntropy(logits, labels) : softTargetCrossEntropy(logits, teacherProbs));
    });
    restoreBuffers();
    const out = new Map<string, Tensor>();
    for (const [n, p] of params) if (p.grad) out.set(n, keep(p.grad.clone()));
    supernet.zeroGrad();
    return out;
  };
  const gCe = gradsOf('ce');
  const gKd = gradsOf('kd');

  const meta = createMetaMatchingNetwork({ sliceSize: 2, classes: 3, hidden: 0 }, 3);
  const d = Tensor.from(
    Array.from({ length: 2 * 6 }, () => rand() - 0.5),
    [2, 6],
  );
  keep(d);
  const rhoOf = (): Tensor => meta.matchingScores(d);
  const chosen = 1;

  const validationLoss = () => crossEntropy(supernet.forward(xVal, student), yVal);
  /** R at the current theta, by an explicit lookahead. */
  const R = (): number => {
    const rho = noGrad(() => tidy(() => rhoOf().f32[chosen]));
    const saved = params.map(([, p]) => p.f32.slice());
    for (const [n, p] of params) {
      const ce = gCe.get(n);
      const kd = gKd.get(n);
      if (ce) native.axpy(p.f32, ce.f32, -eta);
      if (kd) native.axpy(p.f32, kd.f32, -eta * rho);
    }
    const r = noGrad(() => tidy(() => validationLoss().item()));
    params.forEach(([, p], i) => {
      p.f32.set(saved[i]);
    });
    restoreBuffers();
    return r;
  };

  // Analytic: set .grad = g_CE + rho g_KD, get dR/drho, back-propagate through M.
  const rho = noGrad(() => tidy(() => rhoOf().f32[chosen]));
  for (const [n, p] of params) {
    const g = Tensor.zeros(p.shape);
    const ce = gCe.get(n);
    const kd = gKd.get(n);
    if (ce) native.axpy(g.f32, ce.f32, 1);
    if (kd) native.axpy(g.f32, kd.f32, rho);
    p.grad = keep(g);
  }
  const dRdRho = lookaheadRhoGradient({ params, kdGrads: gKd, lr: eta, buffers, validationLoss });
  meta.zeroGrad();
  tidy(() => {
    const scores = rhoOf();
    const seed = new Float32Array(2);
    seed[chosen] = dRdRho;
    backward(scores, Tensor.from(seed, [2]));
  });

  // Numeric: central differences of R over a few meta weights and the bias.
  const [[, w], [, b]] = [...meta.namedParameters()];
  const checks: [Tensor, number][] = [
    [w, 0],
    [w, 3],
    [w, 5],
    [b, 0],
  ];
  const eps = 0.05;
  for (const [t, i] of checks) {
    const orig = t.f32[i];
    t.f32[i] = orig + eps;
    const plus = R();
    t.f32[i] = orig - eps;
    const minus = R();
    t.f32[i] = orig;
    const numeric = (plus - minus) / (2 * eps);
    const analytic = t.grad!.f32[i];
    const scaleRef = Math.max(Math.abs(numeric), 1e-4);
    assert.ok(
      Math.abs(analytic - numeric) / scaleRef < 0.05,
      `meta weight ${i}: analytic ${analytic} vs numeric ${numeric}`,
    );
  }
  // The lookahead left weights and gradients as they were.
  for (const [n, p] of params) {
    const g = p.grad!.f32;
    const ce = gCe.get(n);
    if (ce) assert.ok(Math.abs(g[0] - (ce.f32[0] + rho * (gKd.get(n)?.f32[0] ?? 0))) < 1e-5, n);
  }
  supernet.dispose();
  meta.dispose();
});
