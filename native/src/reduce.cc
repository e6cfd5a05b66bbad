// Reductions with double accumulation: the total of a tensor (losses, regularisers, tests). Every
// element is added in double (memory-bound anyway), and per-chunk partials are combined in chunk
// order, so the result does not depend on the thread count.
#include <algorithm>
#include <string>
#include <vector>

#include "reduce_parallel.h"
#include "registry.h"

namespace cream {

// sumAll(x) -> sum of all elements, as a double.
static Napi::Value SumAll(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const int64_t n = static_cast<int64_t>(len(info, 0));
  constexpr int64_t kBlock = 1024;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  const int64_t chunks = chunkCount(blocks, kBlock);
  std::vector<double> partial(chunks, 0.0);
  parallelChunks(blocks, chunks, [&](int64_t b0, int64_t b1, int64_t chunk) {
    double s = 0;
    const int64_t i0 = b0 * kBlock, i1 = std::min(n, b1 * kBlock);
#pragma omp simd reduction(+ : s)
    for (int64_t i = i0; i < i1; ++i) s += x[i];
    partial[chunk] = s;
  });
  double total = 0;
  for (double p : partial) total += p;
  return Napi::Number::New(info.Env(), total);
}

CREAM_EXPORT("sumAll", SumAll);

}  // namespace cream
