// Row blocking for the tall GEMMs of pointwise convs ([N*H*W, K] x [K, N] in NHWC), shared by
// conv_gemm.cc and pointwise_bn.cc: each thread runs dnnl_sgemm on its own rows, in blocks that stay
// in L2, so work on a block (bias, batch-norm statistics, gradients) happens while it is hot.
#pragma once
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "registry.h"

namespace cream {

// Rows per block: gradOut and x blocks together about 256 KiB (half of the L2 here).
inline int64_t blockRows(int64_t k, int64_t n) {
  return std::clamp<int64_t>((65536 / (k + n)) / 16 * 16, 64, 4096);
}

// Row-parallel blocking pays once each thread gets a few blocks.
inline bool rowParallel(int64_t m, int64_t k, int64_t n) {
  return omp_get_max_threads() > 1 && m >= 4 * blockRows(k, n) && m * k * n >= (int64_t{1} << 22);
}

// dnnl_sgemm (row-major), also for empty products; throws on failure. Inside a parallel region it
// runs on the calling thread only.
inline void sgemm(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                  const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // an empty product: C = beta C (beta is 0 or 1 here)
    if (beta == 0.f)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.f);
    return;
  }
  if (dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) != dnnl_success) {
    throw KernelError{"pointwise: dnnl_sgemm failed"};
  }
}

}  // namespace cream
