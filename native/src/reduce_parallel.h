// Row-range parallelism for the normalisation, activation, pooling and loss kernels, and the choice
// between the AVX2 and the portable builds of the vectorised kernels.
//
// The big streaming kernels (batch-norm, activations, squeeze-excite) cut their rows into chunks
// fixed by the shape alone, which threads take dynamically: a thread that loses its core for a
// while (to the data loader's thread, or another process) delays one chunk rather than half the
// work. Partial sums are kept per chunk and combined in chunk order, so results are the same for
// any thread count and scheduling.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace cream {

// Below this many elements a parallel region costs more (~1-2 us fork/join) than it saves.
static constexpr int64_t kRowParallelMin = 1 << 15;

inline int rowThreads(int64_t work) { return work >= kRowParallelMin ? omp_get_max_threads() : 1; }

// Threads for kernels that split a batch by whole images: one image cannot be split.
inline int imageThreads(int64_t images, int64_t work) { return images >= 2 ? rowThreads(work) : 1; }

// Calls f(r0, r1, thread) for `threads` contiguous blocks of [0, rows) (static split).
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

// How many chunks to cut `rows` rows of `rowElems` elements into: one below the parallel threshold,
// else chunks of at least 16K elements, at most 64.
inline int64_t chunkCount(int64_t rows, int64_t rowElems) {
  const int64_t total = rows * rowElems;
  if (total < kRowParallelMin) return 1;
  return std::max<int64_t>(1, std::min<int64_t>({64, total / 16384, rows}));
}

// Calls f(r0, r1, chunk) for each of `chunks` contiguous blocks of [0, rows), threads taking
// chunks dynamically (in order when single-threaded).
template <typename F>
void parallelChunks(int64_t rows, int64_t chunks, F f) {
  if (chunks <= 1 || omp_get_max_threads() == 1) {
    for (int64_t c = 0; c < chunks; ++c) f(rows * c / chunks, rows * (c + 1) / chunks, c);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t c = 0; c < chunks; ++c) f(rows * c / chunks, rows * (c + 1) / chunks, c);
}

// Whether the AVX2+FMA builds of the batch-norm and activation kernels run: the CPU must have both,
// and CREAM_SIMD=baseline (read once) forces the portable build, to test or compare it.
inline bool useAvx2Kernels() {
  static const bool use = [] {
    const char* env = std::getenv("CREAM_SIMD");
    if (env && std::strcmp(env, "baseline") == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return use;
}

inline int64_t pad8(int64_t c) { return (c + 7) & ~int64_t{7}; }

// A zero-padded copy of a per-channel array, so vector kernels can read whole 8-lane blocks.
inline std::vector<float> padded(const float* v, int64_t C) {
  std::vector<float> out(pad8(C), 0.f);
  for (int64_t c = 0; c < C; ++c) out[c] = v[c];
  return out;
}

}  // namespace cream
