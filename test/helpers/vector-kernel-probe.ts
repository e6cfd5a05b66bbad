// Outputs of the hand-vectorised kernels (activations, batch-norm with a fused activation, the
// fused pointwise conv) on fixed inputs, as plain arrays: computed once in the test process and
// once in a child started with CREAM_SIMD=baseline, so the portable build is checked against the
// AVX2 one on machines that run the AVX2 one by default.
import { InitRandom } from '../../src/nn/index.ts';
import {
  backward,
  batchNorm,
  hardSigmoid,
  native,
  noGrad,
  relu6,
  sigmoid,
  swish,
  Tensor,
  tidy,
  vectorKernels,
} from '../../src/tensor/index.ts';

export interface ProbeResult {
  kernels: 'avx2' | 'baseline';
  outputs: Record<string, number[]>;
}

function filled(shape: readonly number[], seed: number, scale: number): Tensor {
  const t = Tensor.empty(shape);
  const rng = new InitRandom(seed);
  for (let i = 0; i < t.size; i++) t.f32[i] = rng.normal() * scale;
  return t;
}

export function probeVectorKernels(): ProbeResult {
  const outputs: Record<string, number[]> = {};
  // Activations over [-100, 100] in 40,009 steps: threaded, a partial last block, both saturations.
  const n = 40_009;
  const x = Tensor.empty([n]);
  for (let i = 0; i < n; i++) x.f32[i] = -100 + (200 * i) / (n - 1);
  for (const [name, fn] of Object.entries({ sigmoid, swish, hardSigmoid, relu6 })) {
    outputs[name] = Array.from(noGrad(() => fn(x)).f32);
  }
  x.requiresGrad = true;
  tidy(() => backward(swish(x), filled([n], 1, 1)));
  outputs.swishGrad = Array.from(x.grad!.f32);

  // Training-mode batch-norm + swish on [16, 9, 9, 21] (21 channels: a partial vector block).
  const bx = filled([16, 9, 9, 21], 2, 3);
  const gamma = filled([21], 3, 1);
  const beta = filled([21], 4, 1);
  for (const t of [bx, gamma, beta]) t.requiresGrad = true;
  tidy(() => {
    const y = batchNorm(bx, gamma, beta, Tensor.zeros([21]), Tensor.full([21], 1), { training: true, act: 'swish' });
    outputs.bnSwish = Array.from(y.f32);
    backward(y, filled(y.shape, 5, 1));
  });
  outputs.bnGradX = Array.from(bx.grad!.f32);
  outputs.bnGradGamma = Array.from(gamma.grad!.f32);
  outputs.bnGradBeta = Array.from(beta.grad!.f32);

  // The fused pointwise conv with swish: [50, 24] x [24, 40] + bias.
  const px = filled([50, 24], 6, 1);
  const pw = filled([24, 40], 7, 0.3);
  const pb = filled([40], 8, 0.5);
  const py = new Float32Array(50 * 40);
  native.pointwiseAct(px.f32, pw.f32, pb.f32, py, 50, 24, 40, 3);
  outputs.pointwiseSwish = Array.from(py);
  return { kernels: vectorKernels(), outputs };
}
