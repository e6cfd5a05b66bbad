// Row blocking for the tall GEMMs of pointwise convs ([N*H*W, K] x [K, N] in NHWC), shared by
// conv_gemm.cc and pointwise_bn.cc: each thread runs dnnl_sgemm on its own rows, in blocks that stay
// in L2, so work on a block (bias, batch-norm statistics, gradients) happens while it is hot.
#pragma once
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "registry.h"
#include "scratch.h"

namespace cream {

// The [M, K] x [K, N] dimensions of a pointwise conv + batch-norm kernel, from arguments i..i+2.
struct PointwiseDims {
  int64_t m, k, n;
};

inline PointwiseDims pointwiseDims(const Napi::CallbackInfo& info, size_t i, const char* op) {
  const PointwiseDims d{num(info, i), num(info, i + 1), num(info, i + 2)};
  if (d.m < 2 || d.k < 1 || d.n < 1) {
    throw KernelError{std::string(op) + ": needs M >= 2 rows and K, N >= 1, got M " + std::to_string(d.m) + ", K " +
                      std::to_string(d.k) + ", N " + std::to_string(d.n)};
  }
  return d;
}

// Rows per block: gradOut and x blocks together about 256 KiB (half of the L2 here).
inline int64_t blockRows(int64_t k, int64_t n) {
  return std::clamp<int64_t>((65536 / (k + n)) / 16 * 16, 64, 4096);
}

// Whether a product is big enough to run in row blocks (then over the threads): once a thread gets a
// few blocks. A property of the shape alone, so the choice (and the rounding) is the same for any
// thread count.
inline bool rowBlocked(int64_t m, int64_t k, int64_t n) {
  return m >= 4 * blockRows(k, n) && m * k * n >= (int64_t{1} << 22);
}

inline bool rowParallel(int64_t m, int64_t k, int64_t n) { return omp_get_max_threads() > 1 && rowBlocked(m, k, n); }

// The row blocks of a GEMM backward over m rows, grouped into at most 8 chunks of whole blocks fixed
// by the shape. Threads take chunks dynamically (a thread that loses its core for a while delays one
// chunk, not half the work), and sums over rows (the weight gradient) are kept per chunk and added
// in chunk order, so they do not depend on the thread count or on timing.
struct RowChunks {
  int64_t rows, blockSize, blocks, count;
  RowChunks(int64_t m, int64_t mb)
      : rows(m), blockSize(mb), blocks((m + mb - 1) / mb), count(std::min<int64_t>(blocks, 8)) {}
  int64_t begin(int64_t c) const { return blocks * c / count * blockSize; }
  int64_t end(int64_t c) const { return std::min(rows, blocks * (c + 1) / count * blockSize); }

  // Calls f(chunk, r, rows) for each block, in row order within a chunk, the chunks spread over the
  // threads when `parallel`.
  template <typename F>
  void forEachBlock(bool parallel, F f) const {
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
    for (int64_t c = 0; c < count; ++c) {
      for (int64_t r = begin(c); r < end(c); r += blockSize) f(c, r, std::min(blockSize, end(c) - r));
    }
  }

  // out[i] = sum over the chunks of partial[chunk * len + i], in chunk order.
  template <typename T>
  void sum(const T* partial, int64_t len, float* out) const {
    for (int64_t i = 0; i < len; ++i) {
      T s = partial[i];
      for (int64_t c = 1; c < count; ++c) s += partial[c * len + i];
      out[i] = static_cast<float>(s);
    }
  }
};

// The calling thread's buffer for `chunks.count` float partial sums of `len` values each (a weight
// gradient per chunk), kept between calls so that its pages are not faulted in again each time.
// Each chunk's first block overwrites its partial sum, so the buffer is not cleared.
inline float* chunkPartials(const RowChunks& chunks, int64_t len) {
  thread_local Scratch partials;
  partials.prepare(1, static_cast<size_t>(chunks.count * len));
  return partials.get(0);
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
