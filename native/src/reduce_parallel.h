// Row-range parallelism for the normalisation, activation, pooling and loss kernels: OpenMP threads
// take contiguous blocks of rows (so each streams its own memory), and per-thread partial sums are
// combined afterwards in a fixed order, so results do not depend on scheduling.
#pragma once
#include <omp.h>

#include <cstdint>
#include <vector>

namespace cream {

// Below this many elements a parallel region costs more (~1-2 us fork/join) than it saves.
static constexpr int64_t kRowParallelMin = 1 << 15;

inline int rowThreads(int64_t work) { return work >= kRowParallelMin ? omp_get_max_threads() : 1; }

// Calls f(r0, r1, thread) for `threads` contiguous blocks of [0, rows).
template <typename F>
void parallelRows(int64_t rows, int threads, F f) {
  if (threads <= 1 || rows <= 1) {
    f(int64_t{0}, rows, 0);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    f(rows * t / nt, rows * (t + 1) / nt, t);
  }
}

inline int64_t pad8(int64_t c) { return (c + 7) & ~int64_t{7}; }

// A zero-padded copy of a per-channel array, so vector kernels can read whole 8-lane blocks.
inline std::vector<float> padded(const float* v, int64_t C) {
  std::vector<float> out(pad8(C), 0.f);
  for (int64_t c = 0; c < C; ++c) out[c] = v[c];
  return out;
}

}  // namespace cream
