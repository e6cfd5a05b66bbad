// Shared checks of the fused conv + training batch-norm ops (pointwiseBatchNorm, depthwiseBatchNorm,
// sePointwiseBatchNorm): PyTorch fixture steps and comparisons with the ops they replace.
import assert from 'node:assert/strict';
import { backward, type Tensor, tidy } from '../../src/tensor/index.ts';
import { randomTensor } from './gradcheck.ts';
import { assertClose, type Fixture, load } from './torch-fixture.ts';

/**
 * A batch-norm's gamma, beta and running statistics for c channels, drawn from `rand` in that order:
 * scales and variances in [0.5, 1.5], shifts in [-0.5, 0.5], means in [-0.2, 0.2].
 */
export function randomBatchNorm(
  c: number,
  rand: () => number,
): { gamma: Tensor; beta: Tensor; rm: Tensor; rv: Tensor } {
  return {
    gamma: randomTensor([c], rand, 0.5, 1.5),
    beta: randomTensor([c], rand, -0.5, 0.5),
    rm: randomTensor([c], rand, -0.2, 0.2),
    rv: randomTensor([c], rand, 0.5, 1.5),
  };
}

/** The largest elementwise difference relative to the largest magnitude of `b`. */
export function maxRelDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/**
 * What a training step left: its output, each parameter's gradient and the running statistics, as
 * arrays. Clears the gradients and disposes the statistics (copies made for the step).
 */
export function stepResults(out: Float32Array, params: Tensor[], runningStats: Tensor[]): Float32Array[] {
  const result = [out, ...params.map((p) => p.grad!.f32.slice()), ...runningStats.map((t) => t.f32.slice())];
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
  for (const t of runningStats) t.dispose();
  return result;
}

/**
 * One training step of `run` on the inputs of a norm_act.json conv + batch-norm case (x, w, gamma,
 * beta, running statistics), checked against PyTorch: the output, the four gradients and the
 * running statistics after.
 */
export function assertConvBnStep(
  c: Fixture[string],
  run: (x: Tensor, w: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor) => Tensor,
): void {
  const [x, w, gamma, beta] = [c.x, c.w, c.gamma, c.beta].map(load);
  const runningMean = load(c.runningMean);
  const runningVar = load(c.runningVar);
  for (const t of [x, w, gamma, beta]) t.requiresGrad = true;
  tidy(() => {
    const y = run(x, w, gamma, beta, runningMean, runningVar);
    assertClose(y, c.y, 1e-4, 1e-4, 'y');
    backward(y, load(c.gy));
  });
  assertClose(x.grad!, c.gx, 2e-4, 2e-4, 'gx');
  assertClose(w.grad!, c.gw, 2e-4, 2e-4, 'gw');
  assertClose(gamma.grad!, c.ggamma, 2e-4, 2e-4, 'ggamma');
  assertClose(beta.grad!, c.gbeta, 2e-4, 2e-4, 'gbeta');
  assertClose(runningMean, c.runningMeanAfter, 1e-6, 1e-6, 'runningMean');
  assertClose(runningVar, c.runningVarAfter, 1e-6, 1e-6, 'runningVar');
}
