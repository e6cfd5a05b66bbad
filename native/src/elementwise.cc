// Elementwise kernels on flat float32 arrays (same length unless stated). Parallel only above a
// size where OpenMP's fork/join cost (~1-2 us) is repaid.
#include <algorithm>

#include "reduce_parallel.h"
#include "registry.h"

namespace cream {

static void checkSame(const char* op, size_t a, size_t b) {
  if (a != b) throw KernelError{std::string(op) + ": length mismatch " + std::to_string(a) + " vs " + std::to_string(b)};
}

enum class Ew { kAxpy, kAxpby, kAdd, kSub, kMul, kScale };

// out = op(a, b, s, t) over [i0, i1): plain loops GCC vectorises (through an omp simd lambda it did
// not: the captured pointers were reloaded after every store), cloned for AVX2.
template <Ew kOp>
__attribute__((target_clones("avx2", "default"))) void ewRange(float* out, const float* a, const float* b, float s,
                                                              float t, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) {
    if constexpr (kOp == Ew::kAxpy) out[i] += s * a[i];
    if constexpr (kOp == Ew::kAxpby) out[i] = s * a[i] + t * out[i];
    if constexpr (kOp == Ew::kAdd) out[i] = a[i] + b[i];
    if constexpr (kOp == Ew::kSub) out[i] = a[i] - b[i];
    if constexpr (kOp == Ew::kMul) out[i] = a[i] * b[i];
    if constexpr (kOp == Ew::kScale) out[i] = s * a[i];
  }
}

// ewRange over [0, n), in one contiguous block per thread above the parallel threshold.
template <Ew kOp>
void ew(int64_t n, float* out, const float* a, const float* b = nullptr, float s = 0.f, float t = 0.f) {
  parallelRows(n, rowThreads(n), [&](int64_t i0, int64_t i1, int) { ewRange<kOp>(out, a, b, s, t, i0, i1); });
}

// axpy(y, x, a): y += a * x
static Napi::Value Axpy(const Napi::CallbackInfo& info) {
  float* y = f32(info, 0);
  const float* x = f32(info, 1);
  const float a = static_cast<float>(dbl(info, 2));
  checkSame("axpy", len(info, 0), len(info, 1));
  ew<Ew::kAxpy>(len(info, 0), y, x, nullptr, a);
  return info.Env().Undefined();
}

// axpby(y, x, a, b): y = a * x + b * y
static Napi::Value Axpby(const Napi::CallbackInfo& info) {
  float* y = f32(info, 0);
  const float* x = f32(info, 1);
  const float a = static_cast<float>(dbl(info, 2)), b = static_cast<float>(dbl(info, 3));
  checkSame("axpby", len(info, 0), len(info, 1));
  ew<Ew::kAxpby>(len(info, 0), y, x, nullptr, a, b);
  return info.Env().Undefined();
}

// binary(a, b, out): out = a op b
template <Ew kOp>
static Napi::Value Binary(const Napi::CallbackInfo& info, const char* name) {
  const float* a = f32(info, 0);
  const float* b = f32(info, 1);
  float* out = f32(info, 2);
  checkSame(name, len(info, 0), len(info, 1));
  checkSame(name, len(info, 0), len(info, 2));
  ew<kOp>(len(info, 0), out, a, b);
  return info.Env().Undefined();
}

static Napi::Value EwAdd(const Napi::CallbackInfo& info) { return Binary<Ew::kAdd>(info, "add"); }
static Napi::Value EwSub(const Napi::CallbackInfo& info) { return Binary<Ew::kSub>(info, "sub"); }
static Napi::Value EwMul(const Napi::CallbackInfo& info) { return Binary<Ew::kMul>(info, "mul"); }

// scale(x, a, out): out = a * x (out may be x)
static Napi::Value Scale(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const float a = static_cast<float>(dbl(info, 1));
  float* out = f32(info, 2);
  checkSame("scale", len(info, 0), len(info, 2));
  ew<Ew::kScale>(len(info, 0), out, x, nullptr, a);
  return info.Env().Undefined();
}

// dot(a, b) -> sum a*b in double (used for gradient inner products in the meta update)
static Napi::Value Dot(const Napi::CallbackInfo& info) {
  const float* a = f32(info, 0);
  const float* b = f32(info, 1);
  checkSame("dot", len(info, 0), len(info, 1));
  const int64_t n = len(info, 0);
  double s = 0;
#pragma omp parallel for simd reduction(+ : s) if (n >= kRowParallelMin)
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
