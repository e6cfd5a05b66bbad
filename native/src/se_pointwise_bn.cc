// Backward pass of a training-mode pointwise conv + batch-norm (no activation) whose input is
// squeeze-excite's output x s, with s [N, K] the gates of each image: the projection conv of an
// MBConv block. pointwiseBnForward with a scale runs its forward pass without writing x s out.
//
// Composed, squeeze-excite and the conv make six passes over [M, K] tensors backward (the conv
// writes d(x s) and reads x s for its weight gradient; squeeze-excite reads d(x s) and x for the
// gates' gradient, then d(x s) again to write dx) and four forward (pooling x, reading x to write
// x s, the conv reading x s). Here two each: x is read once and dx written once backward; forward,
// the pooling and the conv read x. The gates' gradient, gs[b, c] = sum over image b's rows of
// x[r, c] (dz w^T)[r, c], comes from the weight gradient's GEMM done per image,
// T_b = x_b^T dz_b [K, N] (about as fast as over all rows at once here):
// gs[b, c] = sum_j T_b[c, j] w[c, j] and gw = sum_b s_b T_b.
//
// Two calls, because the gates' gradient must go back through squeeze-excite's small layers (done
// by the caller) before dx can be written:
//   sePointwiseBnBackwardWeights: gw, dgamma, dbeta, gs, and batch-norm's sums for the second call;
//   sePointwiseBnBackwardInput:   dx = (dz w^T) s + gPooled / HW (gPooled: the gradient of the pooled
//                                 means squeeze-excite computed its gates from).
// dz (the gradient of the conv's output) is recomputed per block in both, from the [M, N] tensors,
// which are narrow next to x in these blocks.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "batchnorm.h"
#include "gemm_blocks.h"
#include "registry.h"
#include "scratch.h"
#include "se_rows.h"
#include "signal_guard.h"

namespace cream {

namespace {

// sePointwiseBnBackwardWeights(x [M, K], w [K, N], z [M, N], dy [M, N], M, K, N, HW, scale [M / HW, K],
//                              gamma, beta, mean, invstd, gw, dgamma, dbeta, gScale [M / HW, K], sums)
// z is the conv's output, mean/invstd the statistics pointwiseBnForward saved. gw, dgamma, dbeta and
// gScale may be empty arrays: not wanted. sums (Float64Array [2 N]) receives batch-norm's backward
// reductions, sum(dy) and sum(dy (z - mean)), for sePointwiseBnBackwardInput.
Napi::Value SePointwiseBnBackwardWeights(const Napi::CallbackInfo& info) {
  const char* op = "sePointwiseBnBackwardWeights";
  const float* x = f32(info, 0);
  const float* w = f32(info, 1);
  const float* z = f32(info, 2);
  const float* dy = f32(info, 3);
  const auto [m, k, n] = pointwiseDims(info, 4, op);
  const int64_t hw = imageRows(info, 7, 8, m, k, op);
  const float* scale = f32(info, 8);
  const float* gamma = f32(info, 9);
  const float* beta = f32(info, 10);
  const float* mean = f32(info, 11);
  const float* invstd = f32(info, 12);
  float* gw = f32(info, 13);
  float* dgamma = f32(info, 14);
  float* dbeta = f32(info, 15);
  float* gScale = f32(info, 16);
  double* sums = f64(info, 17);
  const bool wantGw = len(info, 13) != 0, wantGamma = len(info, 14) != 0, wantBeta = len(info, 15) != 0;
  const bool wantGScale = len(info, 16) != 0;
  const int64_t images = m / hw;
  expectLen(info, 0, m * k, op, "x");
  expectLen(info, 1, k * n, op, "w");
  expectLen(info, 2, m * n, op, "z");
  expectLen(info, 3, m * n, op, "dy");
  for (size_t i : {9, 10, 11, 12}) expectLen(info, i, n, op, "a per-channel array");
  if (wantGw) expectLen(info, 13, k * n, op, "gw");
  if (wantGamma) expectLen(info, 14, n, op, "dgamma");
  if (wantBeta) expectLen(info, 15, n, op, "dbeta");
  if (wantGScale) expectLen(info, 16, images * k, op, "gScale");
  expectLen(info, 17, 2 * n, op, "sums");
  const BnKernels& kern = bnKernels();
  const BnAffine a(mean, invstd, gamma, beta, n);

  std::vector<double> sdz(pad8(n)), sdzx(pad8(n));
  bnGradSums(kBnActNone, z, dy, m, n, a, invstd, nullptr, sdz.data(), sdzx.data(), wantGamma ? dgamma : nullptr,
             wantBeta ? dbeta : nullptr);
  std::copy_n(sdz.data(), n, sums);
  std::copy_n(sdzx.data(), n, sums + n);
  if (!wantGw && !wantGScale) return info.Env().Undefined();

  // Images go to the threads in the fixed chunks of RowChunks (one image per block); gw's partial
  // sums are kept per chunk and added in chunk order, so gw does not depend on the thread count.
  const BnGradCoefficients kc(gamma, invstd, sdz.data(), sdzx.data(), m, n, true);
  const int64_t mb = std::min(blockRows(k, n), hw);
  const RowChunks chunks(images, 1);
  float* partW = wantGw ? chunkPartials(chunks, k * n) : nullptr;
  thread_local Scratch dzOfCaller, tOfCaller;
  Scratch &dzBuffers = dzOfCaller, &tBuffers = tOfCaller;  // the region's threads use the caller's buffers
  dzBuffers.prepare(omp_get_max_threads(), mb * n);
  tBuffers.prepare(omp_get_max_threads(), k * n);
  {
    const SignalsDeferred signals;  // dnnl_sgemm moves the stack pointer into the heap (signal_guard.h)
    chunks.forEachBlock(rowParallel(m, k, n), [&](int64_t c, int64_t image, int64_t) {
      float* dz = dzBuffers.get(omp_get_thread_num());
      float* tImage = tBuffers.get(omp_get_thread_num());
      // T = x_b^T dz_b, over the image's rows in L2-sized pieces.
      const int64_t first = image * hw, end = first + hw;
      for (int64_t r = first; r < end; r += mb) {
        const int64_t rows = std::min(mb, end - r);
        kern.gradInput[kBnActNone](z + r * n, dy + r * n, dz, n, 0, rows, a.mean.data(), a.s.data(), a.beta.data(),
                                   kc.k1.data(), kc.k2.data(), kc.k3.data());
        sgemm('T', 'N', k, n, rows, 1.f, x + r * k, k, dz, n, r == first ? 0.f : 1.f, tImage, n);
      }
      const float* s = scale + image * k;
      float* part = wantGw ? partW + c * k * n : nullptr;
      const bool startsChunk = image == chunks.begin(c);
      for (int64_t kk = 0; kk < k; ++kk) {
        const float* t = tImage + kk * n;
        const float* wRow = w + kk * n;
        if (wantGScale) {
          // Eight running sums in a fixed order, so the compiler can vectorise the dot product.
          float acc[8] = {};
          int64_t j = 0;
          for (; j + 8 <= n; j += 8)
            for (int l = 0; l < 8; ++l) acc[l] += t[j + l] * wRow[j + l];
          for (; j < n; ++j) acc[0] += t[j] * wRow[j];
          gScale[image * k + kk] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        }
        if (part) {
          float* p = part + kk * n;
          const float sk = s[kk];
          if (startsChunk)
            for (int64_t j = 0; j < n; ++j) p[j] = sk * t[j];
          else
            for (int64_t j = 0; j < n; ++j) p[j] += sk * t[j];
        }
      }
    });
  }
  if (wantGw) chunks.sum(partW, k * n, gw);
  return info.Env().Undefined();
}

// sePointwiseBnBackwardInput(w, z, dy, M, K, N, HW, scale, gPooled [M / HW, K], gamma, beta, mean,
//                            invstd, sums, gx [M, K])
// gx = (dz w^T) s + gPooled / HW per image, with dz batch-norm's input gradient from the sums that
// sePointwiseBnBackwardWeights returned.
Napi::Value SePointwiseBnBackwardInput(const Napi::CallbackInfo& info) {
  const char* op = "sePointwiseBnBackwardInput";
  const float* w = f32(info, 0);
  const float* z = f32(info, 1);
  const float* dy = f32(info, 2);
  const auto [m, k, n] = pointwiseDims(info, 3, op);
  const int64_t hw = imageRows(info, 6, 7, m, k, op);
  const float* scale = f32(info, 7);
  const float* gPooled = f32(info, 8);
  const float* gamma = f32(info, 9);
  const float* beta = f32(info, 10);
  const float* mean = f32(info, 11);
  const float* invstd = f32(info, 12);
  const double* sums = f64(info, 13);
  float* gx = f32(info, 14);
  const int64_t images = m / hw;
  expectLen(info, 0, k * n, op, "w");
  expectLen(info, 1, m * n, op, "z");
  expectLen(info, 2, m * n, op, "dy");
  expectLen(info, 8, images * k, op, "gPooled");
  for (size_t i : {9, 10, 11, 12}) expectLen(info, i, n, op, "a per-channel array");
  expectLen(info, 13, 2 * n, op, "sums");
  expectLen(info, 14, m * k, op, "gx");
  const BnKernels& kern = bnKernels();
  const auto scaleAdd = seRowKernels().scaleAddRows;
  const BnAffine a(mean, invstd, gamma, beta, n);
  const BnGradCoefficients kc(gamma, invstd, sums, sums + n, m, n, true);
  // The pooled gradient spread over each image's HW rows, rounded as seInputGrad rounds it.
  const float inv = 1.f / static_cast<float>(hw);
  std::vector<float> spread(pad8(images * k), 0.f);
  for (int64_t i = 0; i < images * k; ++i) spread[i] = gPooled[i] * inv;

  const int64_t mb = blockRows(k, n), blocks = (m + mb - 1) / mb;
  thread_local Scratch dzOfCaller, dxOfCaller;
  Scratch &dzBuffers = dzOfCaller, &dxBuffers = dxOfCaller;  // the region's threads use the caller's buffers
  dzBuffers.prepare(omp_get_max_threads(), mb * n);
  dxBuffers.prepare(omp_get_max_threads(), mb * k);
  {
    const SignalsDeferred signals;  // dnnl_sgemm moves the stack pointer into the heap (signal_guard.h)
    // Runs of blocks taken dynamically, as in pointwiseBnForward (each block's result is its own).
    const int64_t run = std::max<int64_t>(1, blocks / (4 * omp_get_max_threads()));
#pragma omp parallel for schedule(dynamic, run) if (rowParallel(m, k, n))
    for (int64_t b = 0; b < blocks; ++b) {
      float* dz = dzBuffers.get(omp_get_thread_num());
      float* dx = dxBuffers.get(omp_get_thread_num());
      const int64_t r = b * mb, rows = std::min(mb, m - r);
      kern.gradInput[kBnActNone](z + r * n, dy + r * n, dz, n, 0, rows, a.mean.data(), a.s.data(), a.beta.data(),
                                 kc.k1.data(), kc.k2.data(), kc.k3.data());
      sgemm('N', 'T', rows, k, n, 1.f, dz, n, w, n, 0.f, dx, k);
      forImageRows(r, rows, hw, [&](int64_t image, int64_t r0, int64_t r1) {
        scaleAdd(dx + (r0 - r) * k, scale + image * k, spread.data() + image * k, gx + r0 * k, k, 0, r1 - r0);
      });
    }
  }
  return info.Env().Undefined();
}

}  // namespace

CREAM_EXPORT("sePointwiseBnBackwardWeights", SePointwiseBnBackwardWeights);
CREAM_EXPORT("sePointwiseBnBackwardInput", SePointwiseBnBackwardInput);

}  // namespace cream
