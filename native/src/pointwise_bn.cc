// Training-mode pointwise (1x1) conv followed by batch-norm and its activation, fused, for the
// memory-bound layers of MBConv blocks ([N*H*W, K] x [K, N] products whose outputs are tens of MB).
// Separately, the conv writes z, batch-norm reads it twice (statistics, then normalise) and writes
// y; backward, batch-norm writes dz and the GEMMs read it back. Here the GEMM runs in row blocks
// that stay in L2 (gemm_blocks.h) and batch-norm works on each block while it is hot:
//   forward:  the statistics of each z block right after the GEMM writes it (one pass over z saved);
//   backward: the gradient of z for a block goes into an L2 buffer and feeds the two GEMMs
//             (gx = dz w^T, gw = x^T dz) at once, never written out (two passes saved).
// The arithmetic is batchnorm.cc's (the same row kernels), so results match the unfused ops.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "batchnorm.h"
#include "gemm_blocks.h"
#include "registry.h"
#include "scratch.h"
#include "se_rows.h"
#include "signal_guard.h"

namespace cream {

namespace {

// pointwiseBnForward(x [M, K], w [K, N], M, K, N, gamma, beta, runningMean, runningVar, momentum, eps,
//                    act, z [M, N], y [M, N], saveMean, saveInvstd, scale, HW)
// z = x w; y = act(batch_norm(z) * gamma + beta) with batch statistics, which are saved (for the
// backward pass) and moved into the running ones as bnForward does in training. An empty y: the
// statistics only, y made by its consumer (depthwiseBnForward's producer arguments).
// With scale [M / HW, K] (squeeze-excite's gates; an empty array: none), the conv reads x with the
// channels of each image (HW rows) scaled: each block is scaled into an L2 buffer on its way to the
// GEMM, so the scaled tensor is never written out (se_pointwise_bn.cc has the backward pass).
Napi::Value PointwiseBnForward(const Napi::CallbackInfo& info) {
  const char* op = "pointwiseBnForward";
  const float* x = f32(info, 0);
  const float* w = f32(info, 1);
  const auto [m, k, n] = pointwiseDims(info, 2, op);
  const float* gamma = f32(info, 5);
  const float* beta = f32(info, 6);
  float* runMean = f32(info, 7);
  float* runVar = f32(info, 8);
  const double momentum = dbl(info, 9), eps = dbl(info, 10);
  const int act = bnActivation(info, 11, op);
  float* z = f32(info, 12);
  float* y = f32(info, 13);
  float* saveMean = f32(info, 14);
  float* saveInvstd = f32(info, 15);
  expectLen(info, 0, m * k, op, "x");
  expectLen(info, 1, k * n, op, "w");
  for (size_t i : {5, 6, 7, 8, 14, 15}) expectLen(info, i, n, op, "a per-channel array");
  expectLen(info, 12, m * n, op, "z");
  const bool apply = len(info, 13) != 0;
  if (apply) expectLen(info, 13, m * n, op, "y");
  const float* scale = f32(info, 16);
  const bool scaled = len(info, 16) != 0;
  const int64_t hw = scaled ? imageRows(info, 17, 16, m, k, op) : 0;
  const BnKernels& kern = bnKernels();

  // The statistics are sums of z - shift with shift = z's first row (as bnForward shifts by its
  // input's first row, against cancellation); it is computed up front so every block can use it.
  std::vector<float> shift(pad8(n), 0.f);
  for (int64_t kk = 0; kk < k; ++kk) {
    const float x0 = scaled ? x[kk] * scale[kk] : x[kk];
    for (int64_t j = 0; j < n; ++j) shift[j] += x0 * w[kk * n + j];
  }

  const int64_t mb = blockRows(k, n), blocks = (m + mb - 1) / mb;
  const bool parallel = rowParallel(m, k, n);
  ChannelSums sums(blocks, n);
  thread_local Scratch scaledOfCaller;
  Scratch& scaledBlocks = scaledOfCaller;  // the region's threads use the caller's buffers
  if (scaled) scaledBlocks.prepare(omp_get_max_threads(), mb * k);
  {
    const SignalsDeferred signals;  // dnnl_sgemm moves the stack pointer into the heap (signal_guard.h)
    // Runs of consecutive blocks, taken dynamically: a thread that loses its core for a while (other
    // processes, a hypervisor's steal) delays one run rather than half the work. Runs, not single
    // blocks: dealt out one block at a time, each thread's GEMMs ran 1.3-2x slower.
    const int64_t run = std::max<int64_t>(1, blocks / (4 * omp_get_max_threads()));
#pragma omp parallel for schedule(dynamic, run) if (parallel)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t r = b * mb, rows = std::min(mb, m - r);
      const float* a = x + r * k;
      if (scaled) {
        float* buffer = scaledBlocks.get(omp_get_thread_num());
        scaleImageRows(x, scale, r, rows, hw, k, buffer);
        a = buffer;
      }
      sgemm('N', 'N', rows, n, k, 1.f, a, k, w, n, 0.f, z + r * n, n);
      kern.stats(z + r * n, n, 0, rows, shift.data(), sums.a(b), sums.b(b), sums.accA(), sums.accB());
    }
  }

  sums.combine();
  finishTrainingStats(sums.a(0), sums.b(0), shift.data(), m, n, momentum, eps, runMean, runVar, saveMean, saveInvstd);

  if (apply) bnApplyRows(act, z, y, m, n, BnAffine(saveMean, saveInvstd, gamma, beta, n));
  return info.Env().Undefined();
}

// pointwiseBnBackward(x, w, z, dy, M, K, N, gamma, beta, mean, invstd, act, gx, gw, dgamma, dbeta, scratch,
//                     gradSums)
// Gradients of pointwiseBnForward's y given dy; mean/invstd are what it saved. Any of gx, gw,
// dgamma, dbeta may be an empty array: not wanted. scratch [M, N] holds dy act'(.) for swish
// between the passes (as bnBackward keeps it: recomputing swish's derivative costs more than the
// store and the load); other activations take an empty array.
// gradSums (Float64Array [2, N], or empty): the first pass already done by the consumer of y
// (depthwiseBnBackward's inSums); dy then holds dy act'(.) and scratch must be empty.
Napi::Value PointwiseBnBackward(const Napi::CallbackInfo& info) {
  const char* op = "pointwiseBnBackward";
  const float* x = f32(info, 0);
  const float* w = f32(info, 1);
  const float* z = f32(info, 2);
  const float* dy = f32(info, 3);
  const auto [m, k, n] = pointwiseDims(info, 4, op);
  const float* gamma = f32(info, 7);
  const float* beta = f32(info, 8);
  const float* meanIn = f32(info, 9);
  const float* invstd = f32(info, 10);
  const int act = bnActivation(info, 11, op);
  float* gx = f32(info, 12);
  float* gw = f32(info, 13);
  float* dgamma = f32(info, 14);
  float* dbeta = f32(info, 15);
  float* scratch = f32(info, 16);
  const bool wantGx = len(info, 12) != 0, wantGw = len(info, 13) != 0;
  const bool wantGamma = len(info, 14) != 0, wantBeta = len(info, 15) != 0;
  expectLen(info, 0, m * k, op, "x");
  expectLen(info, 1, k * n, op, "w");
  expectLen(info, 2, m * n, op, "z");
  expectLen(info, 3, m * n, op, "dy");
  for (size_t i : {7, 8, 9, 10}) expectLen(info, i, n, op, "a per-channel array");
  if (wantGx) expectLen(info, 12, m * k, op, "gx");
  if (wantGw) expectLen(info, 13, k * n, op, "gw");
  if (wantGamma) expectLen(info, 14, n, op, "dgamma");
  if (wantBeta) expectLen(info, 15, n, op, "dbeta");
  const bool summed = len(info, 17) != 0;
  const bool keepDz = len(info, 16) != 0 || summed;
  if (len(info, 16) != 0) {
    if (summed) throw KernelError{std::string(op) + ": gradSums given, so scratch must be empty"};
    expectLen(info, 16, m * n, op, "scratch");
  }
  if (summed) expectLen(info, 17, 2 * n, op, "gradSums");
  const float* kept = summed ? dy : scratch;  // dy act'(.), where pass 2 reads it
  const BnKernels& kern = bnKernels();
  const BnAffine a(meanIn, invstd, gamma, beta, n);

  // Pass 1: sum(dz) and sum(dz (z - mean)), dz = dy act'(.), over all rows (batch-norm's dx needs them).
  std::vector<double> sdz(pad8(n)), sdzx(pad8(n));
  if (summed) {
    const double* sums = f64(info, 17);
    std::copy(sums, sums + n, sdz.begin());
    std::copy(sums + n, sums + 2 * n, sdzx.begin());
    bnAffineGrads(sdz.data(), sdzx.data(), invstd, n, wantGamma ? dgamma : nullptr, wantBeta ? dbeta : nullptr);
  } else {
    bnGradSums(act, z, dy, m, n, a, invstd, keepDz ? scratch : nullptr, sdz.data(), sdzx.data(),
               wantGamma ? dgamma : nullptr, wantBeta ? dbeta : nullptr);
  }
  if (!wantGx && !wantGw) return info.Env().Undefined();

  // Pass 2, block by block: the gradient of z into an L2 buffer, then both GEMMs from it, over the
  // fixed chunks of RowChunks (gw's partial sums per chunk, so gw does not depend on the threads).
  const BnGradCoefficients kc(gamma, invstd, sdz.data(), sdzx.data(), m, n, true);
  const int64_t mb = blockRows(k, n);
  const RowChunks chunks(m, mb);
  float* partW = wantGw ? chunkPartials(chunks, k * n) : nullptr;
  thread_local Scratch dzOfCaller;
  Scratch& dzBuffers = dzOfCaller;  // the region's threads use the caller's buffers
  dzBuffers.prepare(omp_get_max_threads(), mb * n);
  {
    const SignalsDeferred signals;  // dnnl_sgemm moves the stack pointer into the heap (signal_guard.h)
    chunks.forEachBlock(rowParallel(m, k, n), [&](int64_t c, int64_t r, int64_t rows) {
      float* dz = dzBuffers.get(omp_get_thread_num());
      // With dz kept, the second pass reads it as the gradient of an activation-free batch-norm.
      kern.gradInput[keepDz ? kBnActNone : act](z + r * n, (keepDz ? kept : dy) + r * n, dz, n, 0, rows,
                                                a.mean.data(), a.s.data(), a.beta.data(), kc.k1.data(),
                                                kc.k2.data(), kc.k3.data());
      if (wantGx) sgemm('N', 'T', rows, k, n, 1.f, dz, n, w, n, 0.f, gx + r * k, k);
      if (wantGw) {
        const float beta = r == chunks.begin(c) ? 0.f : 1.f;  // the chunk's first block starts its sum
        sgemm('T', 'N', k, n, rows, 1.f, x + r * k, k, dz, n, beta, partW + c * k * n, n);
      }
    });
  }
  if (wantGw) chunks.sum(partW, k * n, gw);
  return info.Env().Undefined();
}

}  // namespace

CREAM_EXPORT("pointwiseBnForward", PointwiseBnForward);
CREAM_EXPORT("pointwiseBnBackward", PointwiseBnBackward);

}  // namespace cream
