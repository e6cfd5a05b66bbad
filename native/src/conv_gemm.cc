// Helpers around sgemm for pointwise convolutions and linear layers, which are [M, K] x [K, N]
// products in NHWC: the bias broadcast before a beta=1 GEMM, and the bias gradient (column sums).
#include <omp.h>

#include <algorithm>
#include <vector>

#include "registry.h"

namespace cream {

namespace {

constexpr int64_t kParallelMin = 1 << 15;

void checkLen(const Napi::CallbackInfo& info, size_t i, int64_t want, const char* op, const char* name) {
  if (static_cast<int64_t>(len(info, i)) != want) {
    throw KernelError{std::string(op) + ": " + name + " has " + std::to_string(len(info, i)) + " elements, expected " +
                      std::to_string(want)};
  }
}

// gemmBiasFill(out, bias, M, N): every row of out [M, N] becomes bias [N].
Napi::Value GemmBiasFill(const Napi::CallbackInfo& info) {
  float* out = f32(info, 0);
  const float* bias = f32(info, 1);
  const int64_t m = num(info, 2), n = num(info, 3);
  checkLen(info, 0, m * n, "gemmBiasFill", "out");
  checkLen(info, 1, n, "gemmBiasFill", "bias");
#pragma omp parallel for schedule(static) if (m * n >= kParallelMin)
  for (int64_t i = 0; i < m; ++i) std::copy(bias, bias + n, out + i * n);
  return info.Env().Undefined();
}

// gemmBiasGrad(x, out, M, N): out [N] = sum over the M rows of x [M, N] (bias gradients).
Napi::Value GemmBiasGrad(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  float* out = f32(info, 1);
  const int64_t m = num(info, 2), n = num(info, 3);
  checkLen(info, 0, m * n, "gemmBiasGrad", "x");
  checkLen(info, 1, n, "gemmBiasGrad", "out");
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

}  // namespace

CREAM_EXPORT("gemmBiasFill", GemmBiasFill);
CREAM_EXPORT("gemmBiasGrad", GemmBiasGrad);

}  // namespace cream
