// Dropout with a counter-based mask: element i is kept when a hash of (seed, i) clears the
// threshold, so the mask needs no storage (backward regenerates it from the seed), is the same for
// any thread count, and is reproducible from the seed alone.
#include <cmath>
#include <cstdint>
#include <string>

#include "reduce_parallel.h"
#include "registry.h"

namespace cream {

namespace {

// A 32-bit integer finaliser with low bias (Wellons' "lowbias32"): every input bit affects every
// output bit, so consecutive indices give independent-looking values.
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// y[i] = x[i] * scale where the hash of (key, i) clears the threshold, else 0, for i in [i0, i1).
// Cloned for AVX2, whose 32-bit vector multiply runs the hash 8 lanes at a time (the baseline clone
// emulates that multiply on 4). 16 us instead of 261 for [128, 640] here, the classifier's input.
__attribute__((target_clones("avx2", "default"))) void dropoutRange(const float* x, float* y, int64_t i0, int64_t i1,
                                                                    uint32_t key1, uint32_t key2,
                                                                    uint32_t threshold, float scale) {
  // 32-bit counters from the range's start, and a dropped value zeroed by masking its bits (exactly
  // +0, whatever x holds): the form GCC vectorises; a select of x * scale or 0 stayed scalar.
  const uint32_t n = static_cast<uint32_t>(i1 - i0), first = static_cast<uint32_t>(i0);
  const float* xs = x + i0;
  float* ys = y + i0;
  for (uint32_t j = 0; j < n; ++j) {
    const uint32_t h = mix32(mix32(first + j + key1) ^ key2);
    const uint32_t keep = 0u - static_cast<uint32_t>((h >> 8) >= threshold);
    const float v = xs[j] * scale;
    uint32_t bits;
    __builtin_memcpy(&bits, &v, sizeof bits);
    bits &= keep;
    __builtin_memcpy(ys + j, &bits, sizeof bits);
  }
}

}  // namespace

// dropoutApply(x, p, seed, y): y = x / (1 - p) where kept, else 0. Used for the forward (x) and
// for the backward (x = upstream gradient) with the same seed. p in [0, 1]; p = 1 drops all.
static Napi::Value DropoutApply(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const double p = dbl(info, 1);
  const int64_t seed = num(info, 2);
  float* y = f32(info, 3);
  const int64_t n = static_cast<int64_t>(len(info, 0));
  if (static_cast<int64_t>(len(info, 3)) != n) throw KernelError{"dropoutApply: x and y lengths differ"};
  if (!(p >= 0 && p <= 1)) throw KernelError{"dropoutApply: p must be in [0, 1], got " + std::to_string(p)};
  if (n > static_cast<int64_t>(UINT32_MAX)) throw KernelError{"dropoutApply: tensor too large for 32-bit indices"};
  // Keep when the top 24 hash bits are >= p * 2^24: keep probability 1 - p to 2^-24.
  const uint32_t threshold = static_cast<uint32_t>(std::llround(p * 16777216.0));
  const float scale = p < 1 ? static_cast<float>(1.0 / (1.0 - p)) : 0.f;
  const uint32_t key1 = mix32(static_cast<uint32_t>(seed) ^ 0x9e3779b9U);
  const uint32_t key2 = mix32(static_cast<uint32_t>(static_cast<uint64_t>(seed) >> 32) + key1);
  parallelRows(n, rowThreads(n),
               [&](int64_t i0, int64_t i1, int) { dropoutRange(x, y, i0, i1, key1, key2, threshold, scale); });
  return info.Env().Undefined();
}

CREAM_EXPORT("dropoutApply", DropoutApply);

}  // namespace cream
