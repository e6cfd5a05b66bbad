// Reductions with double accumulation: the total of a tensor (losses, regularisers, tests). Float
// runs of 1024 elements are flushed into double sums, and per-thread partials are combined in thread
// order, so the result does not depend on scheduling.
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
  const int threads = rowThreads(n);
  std::vector<double> partial(threads, 0.0);
  parallelRows(blocks, threads, [&](int64_t b0, int64_t b1, int t) {
    double total = 0;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i0 = b * kBlock, i1 = std::min(n, i0 + kBlock);
      float s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t i = i0; i < i1; ++i) s += x[i];
      total += s;
    }
    partial[t] = total;
  });
  double total = 0;
  for (double p : partial) total += p;
  return Napi::Number::New(info.Env(), total);
}

CREAM_EXPORT("sumAll", SumAll);

}  // namespace cream
