// Row-major single-precision GEMM through oneDNN's dnnl_sgemm: the workhorse of pointwise convs
// (NHWC 1x1 conv = [N*H*W, Cin] x [Cin, Cout]) and linear layers.
#include <dnnl.h>

#include "registry.h"
#include "signal_guard.h"

namespace cream {

// sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): C = alpha op(A) op(B) + beta C
static Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  const bool ta = flag(info, 0), tb = flag(info, 1);
  const int64_t M = num(info, 2), N = num(info, 3), K = num(info, 4);
  const float alpha = static_cast<float>(dbl(info, 5));
  const float* A = f32(info, 6);
  const int64_t lda = num(info, 7);
  const float* B = f32(info, 8);
  const int64_t ldb = num(info, 9);
  const float beta = static_cast<float>(dbl(info, 10));
  float* C = f32(info, 11);
  const int64_t ldc = num(info, 12);
  const size_t needA = ta ? K * lda : M * lda, needB = tb ? N * ldb : K * ldb, needC = M * ldc;
  if (len(info, 6) < needA || len(info, 8) < needB || len(info, 11) < needC) {
    throw KernelError{"sgemm: a matrix is smaller than M/N/K and its leading dimension imply"};
  }
  const SignalsDeferred signals;  // dnnl_sgemm moves the stack pointer into the heap (signal_guard.h)
  if (dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) != dnnl_success) {
    throw KernelError{"sgemm: dnnl_sgemm failed"};
  }
  return info.Env().Undefined();
}

CREAM_EXPORT("sgemm", Sgemm);

}  // namespace cream
