// Pointwise (1x1) convolution + bias + activation for inference, in one pass over the output
// (pointwise_kernels.inc). At batch 1 a GEMM library call followed by a bias/activation pass spends
// much of its time on call overhead and on a second trip through the output; this kernel holds the
// output tile in registers from the first multiply to the activated store. Inference only: training
// keeps the conv output for batch-norm and the backward pass.
#include <algorithm>
#include <string>

#include <immintrin.h>

#include "reduce_parallel.h"
#include "registry.h"

namespace cream {
namespace pw_avx2 {
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define CREAM_SIMD_AVX2 1
#include "activation_simd.h"
#include "pointwise_kernels.inc"
#undef CREAM_SIMD_AVX2
#pragma GCC pop_options
}  // namespace pw_avx2
namespace pw_base {
#include "activation_simd.h"
#include "pointwise_kernels.inc"
}  // namespace pw_base

// pointwiseAct(x, w, bias, y, M, K, N, act): y [M, N] = act(x [M, K] w [K, N] + bias [N]).
static Napi::Value PointwiseAct(const Napi::CallbackInfo& info) {
  const char* op = "pointwiseAct";
  const int64_t M = num(info, 4), K = num(info, 5), N = num(info, 6), act = num(info, 7);
  if (M <= 0 || K <= 0 || N <= 0) throw KernelError{std::string(op) + ": dimensions must be positive"};
  if (act < 0 || act > 5) throw KernelError{std::string(op) + ": unknown activation code " + std::to_string(act)};
  expectLen(info, 0, M * K, op, "x");
  expectLen(info, 1, K * N, op, "w");
  expectLen(info, 2, N, op, "bias");
  expectLen(info, 3, M * N, op, "y");
  const float *x = f32(info, 0), *w = f32(info, 1), *bias = f32(info, 2);
  float* y = f32(info, 3);
  const auto fn = useAvx2Kernels() ? pw_avx2::kPointwise[act] : pw_base::kPointwise[act];
  // Row blocks of 6 per thread: whole tiles, so splitting does not add tail work.
  const int64_t blocks = (M + 5) / 6;
  parallelRows(blocks, rowThreads(M * N * std::max<int64_t>(1, K / 16)), [&](int64_t b0, int64_t b1, int) {
    fn(x, w, bias, y, K, N, b0 * 6, std::min(M, b1 * 6));
  });
  return info.Env().Undefined();
}

CREAM_EXPORT("pointwiseAct", PointwiseAct);

}  // namespace cream
