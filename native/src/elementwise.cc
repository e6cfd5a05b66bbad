// Elementwise kernels on flat float32 arrays (same length unless stated). Parallel only above a
// size where OpenMP's fork/join cost (~1-2 us) is repaid.
#include <algorithm>

#include "registry.h"

namespace cream {

static constexpr int64_t kParallelMin = 1 << 15;

static void checkSame(const char* op, size_t a, size_t b) {
  if (a != b) throw KernelError{std::string(op) + ": length mismatch " + std::to_string(a) + " vs " + std::to_string(b)};
}

template <typename F>
static void forEach(int64_t n, F f) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// axpy(y, x, a): y += a * x
static Napi::Value Axpy(const Napi::CallbackInfo& info) {
  float* y = f32(info, 0);
  const float* x = f32(info, 1);
  const float a = static_cast<float>(dbl(info, 2));
  checkSame("axpy", len(info, 0), len(info, 1));
  forEach(len(info, 0), [=](int64_t i) { y[i] += a * x[i]; });
  return info.Env().Undefined();
}

// axpby(y, x, a, b): y = a * x + b * y
static Napi::Value Axpby(const Napi::CallbackInfo& info) {
  float* y = f32(info, 0);
  const float* x = f32(info, 1);
  const float a = static_cast<float>(dbl(info, 2)), b = static_cast<float>(dbl(info, 3));
  checkSame("axpby", len(info, 0), len(info, 1));
  forEach(len(info, 0), [=](int64_t i) { y[i] = a * x[i] + b * y[i]; });
  return info.Env().Undefined();
}

// binary(a, b, out): out = a op b
#define CREAM_BINARY(NAME, EXPR)                                        \
  static Napi::Value NAME(const Napi::CallbackInfo& info) {             \
    const float* a = f32(info, 0);                                      \
    const float* b = f32(info, 1);                                      \
    float* out = f32(info, 2);                                          \
    checkSame(#NAME, len(info, 0), len(info, 1));                       \
    checkSame(#NAME, len(info, 0), len(info, 2));                       \
    forEach(len(info, 0), [=](int64_t i) { out[i] = EXPR; });           \
    return info.Env().Undefined();                                      \
  }

CREAM_BINARY(EwAdd, a[i] + b[i])
CREAM_BINARY(EwSub, a[i] - b[i])
CREAM_BINARY(EwMul, a[i] * b[i])

// scale(x, a, out): out = a * x (out may be x)
static Napi::Value Scale(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const float a = static_cast<float>(dbl(info, 1));
  float* out = f32(info, 2);
  checkSame("scale", len(info, 0), len(info, 2));
  forEach(len(info, 0), [=](int64_t i) { out[i] = a * x[i]; });
  return info.Env().Undefined();
}

// dot(a, b) -> sum a*b in double (used for gradient inner products in the meta update)
static Napi::Value Dot(const Napi::CallbackInfo& info) {
  const float* a = f32(info, 0);
  const float* b = f32(info, 1);
  checkSame("dot", len(info, 0), len(info, 1));
  const int64_t n = len(info, 0);
  double s = 0;
#pragma omp parallel for simd reduction(+ : s) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return Napi::Number::New(info.Env(), s);
}

CREAM_EXPORT("axpy", Axpy);
CREAM_EXPORT("axpby", Axpby);
CREAM_EXPORT("add", EwAdd);
CREAM_EXPORT("sub", EwSub);
CREAM_EXPORT("mul", EwMul);
CREAM_EXPORT("scale", Scale);
CREAM_EXPORT("dot", Dot);

}  // namespace cream
