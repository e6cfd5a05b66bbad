// Row-wise softmax and log-softmax over [N, C] (classifier outputs), numerically stable: the row
// maximum is subtracted before exponentiating and the normaliser is summed in double.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>

#include "reduce_parallel.h"
#include "registry.h"

namespace cream {

namespace {

void checkRows(const Napi::CallbackInfo& info, const char* op, int64_t N, int64_t C,
               std::initializer_list<size_t> args) {
  if (N <= 0 || C <= 0) throw KernelError{std::string(op) + ": dimensions must be positive"};
  for (size_t i : args) {
    if (static_cast<int64_t>(len(info, i)) != N * C) {
      throw KernelError{std::string(op) + ": argument " + std::to_string(i) + " has " + std::to_string(len(info, i)) +
                        " elements, expected " + std::to_string(N) + " x " + std::to_string(C)};
    }
  }
}

}  // namespace

// softmaxRows(x, N, C, y, log): y = softmax(x) per row, or log_softmax when `log`.
static Napi::Value SoftmaxRows(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const int64_t N = num(info, 1), C = num(info, 2);
  float* y = f32(info, 3);
  const bool log = flag(info, 4);
  checkRows(info, "softmaxRows", N, C, {0, 3});
  parallelRows(N, rowThreads(N * C * 8), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * C;
      float* yr = y + r * C;
      float m = xr[0];
      for (int64_t c = 1; c < C; ++c) m = std::max(m, xr[c]);
      double sum = 0;
      for (int64_t c = 0; c < C; ++c) {
        const float e = std::exp(xr[c] - m);
        if (!log) yr[c] = e;
        sum += e;
      }
      if (log) {
        const float lse = static_cast<float>(std::log(sum));
        for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - m) - lse;
      } else {
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t c = 0; c < C; ++c) yr[c] *= inv;
      }
    }
  });
  return info.Env().Undefined();
}

// softmaxRowsBackward(y, g, N, C, gx, log), from the forward's output y:
// softmax: gx = y (g - sum(g y)); log-softmax: gx = g - exp(y) sum(g).
static Napi::Value SoftmaxRowsBackward(const Napi::CallbackInfo& info) {
  const float* y = f32(info, 0);
  const float* g = f32(info, 1);
  const int64_t N = num(info, 2), C = num(info, 3);
  float* gx = f32(info, 4);
  const bool log = flag(info, 5);
  checkRows(info, "softmaxRowsBackward", N, C, {0, 1, 4});
  parallelRows(N, rowThreads(N * C * 8), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* yr = y + r * C;
      const float* gr = g + r * C;
      float* out = gx + r * C;
      double dot = 0;
      if (log) {
        for (int64_t c = 0; c < C; ++c) dot += gr[c];
        const float s = static_cast<float>(dot);
        for (int64_t c = 0; c < C; ++c) out[c] = gr[c] - std::exp(yr[c]) * s;
      } else {
        for (int64_t c = 0; c < C; ++c) dot += static_cast<double>(gr[c]) * yr[c];
        const float s = static_cast<float>(dot);
        for (int64_t c = 0; c < C; ++c) out[c] = yr[c] * (gr[c] - s);
      }
    }
  });
  return info.Env().Undefined();
}

CREAM_EXPORT("softmaxRows", SoftmaxRows);
CREAM_EXPORT("softmaxRowsBackward", SoftmaxRowsBackward);

}  // namespace cream
