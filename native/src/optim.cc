// Fused optimiser updates: one pass over parameter, gradient and state instead of four JS loops.
#include <cmath>

#include "reduce_parallel.h"
#include "registry.h"

namespace cream {

// The SGD update over [i0, i1), one loop per case so that each vectorises (with the choices inside
// the loop GCC vectorised one variant on 4 lanes); cloned for AVX2.
template <bool kFirst, bool kNesterov>
__attribute__((target_clones("avx2", "default"))) void sgdRange(float* p, const float* g, float* buf, int64_t i0,
                                                                int64_t i1, float lr, float m, float wd) {
  for (int64_t i = i0; i < i1; ++i) {
    const float d = g[i] + wd * p[i];
    const float b = kFirst ? d : m * buf[i] + d;
    buf[i] = b;
    p[i] -= lr * (kNesterov ? d + m * b : b);
  }
}

// sgdStep(param, grad, momentumBuf, lr, momentum, weightDecay, nesterov, firstStep)
// PyTorch SGD semantics (dampening 0): d = g + wd p; buf = d on the first step, else m buf + d;
// update = nesterov ? d + m buf : buf; p -= lr * update.
static Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  float* p = f32(info, 0);
  const float* g = f32(info, 1);
  float* buf = f32(info, 2);
  const float lr = dbl(info, 3), m = dbl(info, 4), wd = dbl(info, 5);
  const bool nesterov = flag(info, 6), first = flag(info, 7);
  const int64_t n = len(info, 0);
  if (len(info, 1) != static_cast<size_t>(n) || len(info, 2) != static_cast<size_t>(n)) {
    throw KernelError{"sgdStep: parameter, gradient and momentum buffer lengths differ"};
  }
  const auto step = first ? (nesterov ? sgdRange<true, true> : sgdRange<true, false>)
                          : (nesterov ? sgdRange<false, true> : sgdRange<false, false>);
  parallelRows(n, rowThreads(n), [&](int64_t i0, int64_t i1, int) { step(p, g, buf, i0, i1, lr, m, wd); });
  return info.Env().Undefined();
}

// The RMSprop update over [i0, i1), with or without momentum, cloned for AVX2 (the addon is built
// with -fno-math-errno, so the square root vectorises).
template <bool kMomentum>
__attribute__((target_clones("avx2", "default"))) void rmspropRange(
    float* p, const float* g, float* sq, float* buf, int64_t i0, int64_t i1, float lr, float alpha, float eps, float m,
    float wd) {
  for (int64_t i = i0; i < i1; ++i) {
    const float d = g[i] + wd * p[i];
    const float s = sq[i] + (1.0f - alpha) * (d * d - sq[i]);
    sq[i] = s;
    const float step = d / std::sqrt(s + eps);
    if (kMomentum) {
      buf[i] = m * buf[i] + lr * step;
      p[i] -= buf[i];
    } else {
      p[i] -= lr * step;
    }
  }
}

// rmspropTfStep(param, grad, squareAvg, momentumBuf, lr, alpha, eps, momentum, weightDecay)
// TensorFlow's RMSprop as timm's RMSpropTF: eps inside the sqrt, lr applied inside the momentum.
static Napi::Value RmspropTfStep(const Napi::CallbackInfo& info) {
  float* p = f32(info, 0);
  const float* g = f32(info, 1);
  float* sq = f32(info, 2);
  float* buf = f32(info, 3);
  const float lr = dbl(info, 4), alpha = dbl(info, 5), eps = dbl(info, 6), m = dbl(info, 7), wd = dbl(info, 8);
  const int64_t n = len(info, 0);
  if (len(info, 1) != static_cast<size_t>(n) || len(info, 2) != static_cast<size_t>(n) ||
      len(info, 3) != static_cast<size_t>(n)) {
    throw KernelError{"rmspropTfStep: parameter, gradient and state lengths differ"};
  }
  const auto step = m > 0 ? rmspropRange<true> : rmspropRange<false>;
  parallelRows(n, rowThreads(n),
               [&](int64_t i0, int64_t i1, int) { step(p, g, sq, buf, i0, i1, lr, alpha, eps, m, wd); });
  return info.Env().Undefined();
}

CREAM_EXPORT("sgdStep", SgdStep);
CREAM_EXPORT("rmspropTfStep", RmspropTfStep);

}  // namespace cream
