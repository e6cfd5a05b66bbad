// Pointwise (1x1) convolutions and linear layers are [M, K] x [K, N] products in NHWC (M = N*H*W
// pixels). For the tall matrices of a training batch (M up to 100k, K and N 16-576) one dnnl_sgemm
// call per thread over its own rows, in blocks that stay in L2, beats one multi-threaded call: the
// forward adds the bias while the block is hot, and the backward reads each block of gradOut once
// for gx = g W^T, gW = x^T g and the bias gradient together (g is the largest operand). Small
// problems go straight to dnnl_sgemm.
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "gemm_blocks.h"
#include "registry.h"
#include "signal_guard.h"

namespace cream {

namespace {

constexpr int64_t kParallelMin = 1 << 15;

// gemmBiasGrad(x, out, M, N): out [N] = sum over the M rows of x [M, N] (bias gradients).
Napi::Value GemmBiasGrad(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  float* out = f32(info, 1);
  const int64_t m = num(info, 2), n = num(info, 3);
  expectLen(info, 0, m * n, "gemmBiasGrad", "x");
  expectLen(info, 1, n, "gemmBiasGrad", "out");
  const int threads = m * n >= kParallelMin ? omp_get_max_threads() : 1;
  // Per-thread partial sums in float64 over a contiguous block of rows, so long reductions
  // (N*H*W = 100k rows) keep float32 accuracy; the inner loop vectorises over columns.
  std::vector<double> partial(static_cast<size_t>(threads) * n, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t lo = m * t / nt, hi = m * (t + 1) / nt;
    double* acc = partial.data() + static_cast<size_t>(t) * n;
    for (int64_t i = lo; i < hi; ++i) {
      const float* row = x + i * n;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) acc[j] += row[j];
    }
  }
  for (int64_t j = 0; j < n; ++j) {
    double s = 0;
    for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t) * n + j];
    out[j] = static_cast<float>(s);
  }
  return info.Env().Undefined();
}

void addBias(float* out, const float* bias, int64_t rows, int64_t n) {
  for (int64_t i = 0; i < rows; ++i) {
    float* row = out + i * n;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) row[j] += bias[j];
  }
}

// gemmForward(x [M, K], w [K, N], bias [N], out [M, N], M, K, N, hasBias): out = x w (+ bias)
Napi::Value GemmForward(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const float* w = f32(info, 1);
  const float* bias = f32(info, 2);
  float* out = f32(info, 3);
  const int64_t m = num(info, 4), k = num(info, 5), n = num(info, 6);
  const bool hasBias = flag(info, 7);
  if (m < 0 || k < 0 || n < 0) throw KernelError{"gemmForward: negative size"};
  expectLen(info, 0, m * k, "gemmForward", "x");
  expectLen(info, 1, k * n, "gemmForward", "w");
  if (hasBias) expectLen(info, 2, n, "gemmForward", "bias");
  expectLen(info, 3, m * n, "gemmForward", "out");
  const SignalsDeferred signals;  // dnnl_sgemm moves the stack pointer into the heap (signal_guard.h)
  if (!rowParallel(m, k, n)) {
    sgemm('N', 'N', m, n, k, 1.f, x, k, w, n, 0.f, out, n);
    if (hasBias) addBias(out, bias, m, n);
    return info.Env().Undefined();
  }
  const int64_t mb = blockRows(k, n);
#pragma omp parallel
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t lo = m * t / nt, hi = m * (t + 1) / nt;
    for (int64_t r = lo; r < hi; r += mb) {
      const int64_t rows = std::min(mb, hi - r);
      // Inside the parallel region dnnl_sgemm runs on this thread only.
      sgemm('N', 'N', rows, n, k, 1.f, x + r * k, k, w, n, 0.f, out + r * n, n);
      if (hasBias) addBias(out + r * n, bias, rows, n);
    }
  }
  return info.Env().Undefined();
}

// gemmBackward(x [M, K], w [K, N], g [M, N], gx [M, K], gw [K, N], gb [N], M, K, N, needGx, needGw, needGb)
// gx = g w^T, gw = x^T g, gb = column sums of g; each output written only when asked for.
Napi::Value GemmBackward(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const float* w = f32(info, 1);
  const float* g = f32(info, 2);
  float* gx = f32(info, 3);
  float* gw = f32(info, 4);
  float* gb = f32(info, 5);
  const int64_t m = num(info, 6), k = num(info, 7), n = num(info, 8);
  const bool needGx = flag(info, 9), needGw = flag(info, 10), needGb = flag(info, 11);
  if (m < 0 || k < 0 || n < 0) throw KernelError{"gemmBackward: negative size"};
  expectLen(info, 2, m * n, "gemmBackward", "gradOut");
  if (needGx) {
    expectLen(info, 1, k * n, "gemmBackward", "w");
    expectLen(info, 3, m * k, "gemmBackward", "gradX");
  }
  if (needGw) {
    expectLen(info, 0, m * k, "gemmBackward", "x");
    expectLen(info, 4, k * n, "gemmBackward", "gradW");
  }
  if (needGb) expectLen(info, 5, n, "gemmBackward", "gradBias");
  const SignalsDeferred signals;  // dnnl_sgemm moves the stack pointer into the heap (signal_guard.h)

  if (!rowBlocked(m, k, n)) {
    if (needGx) sgemm('N', 'T', m, k, n, 1.f, g, n, w, n, 0.f, gx, k);
    if (needGw) sgemm('T', 'N', k, n, m, 1.f, x, k, g, n, 0.f, gw, n);
    if (needGb) {
      std::vector<double> acc(n, 0.0);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) acc[j] += g[i * n + j];
      for (int64_t j = 0; j < n; ++j) gb[j] = static_cast<float>(acc[j]);
    }
    return info.Env().Undefined();
  }

  // Row blocks in the fixed chunks of RowChunks; gW (float) and bias (double) partial sums per chunk.
  const RowChunks chunks(m, blockRows(k, n));
  float* partW = needGw ? chunkPartials(chunks, k * n) : nullptr;
  std::vector<double> partB(needGb ? static_cast<size_t>(chunks.count) * n : 0, 0.0);
  chunks.forEachBlock(rowParallel(m, k, n), [&](int64_t c, int64_t r, int64_t rows) {
    const float* gr = g + r * n;
    if (needGx) sgemm('N', 'T', rows, k, n, 1.f, gr, n, w, n, 0.f, gx + r * k, k);
    if (needGw) {
      const float beta = r == chunks.begin(c) ? 0.f : 1.f;  // the chunk's first block starts its sum
      sgemm('T', 'N', k, n, rows, 1.f, x + r * k, k, gr, n, beta, partW + c * k * n, n);
    }
    if (needGb) {
      double* pb = partB.data() + c * n;
      for (int64_t i = 0; i < rows; ++i) {
        const float* row = gr + i * n;
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) pb[j] += row[j];
      }
    }
  });
  if (needGw) chunks.sum(partW, k * n, gw);
  if (needGb) chunks.sum(partB.data(), n, gb);
  return info.Env().Undefined();
}

}  // namespace

CREAM_EXPORT("gemmForward", GemmForward);
CREAM_EXPORT("gemmBackward", GemmBackward);
CREAM_EXPORT("gemmBiasGrad", GemmBiasGrad);

}  // namespace cream
