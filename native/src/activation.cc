// Standalone activations (forward and backward) and the squeeze-excite channel scaling, vectorised
// over 8 lanes (AVX2+FMA when the CPU has it) and split into chunks across threads for large tensors.
#include <algorithm>
#include <string>
#include <vector>

#include <immintrin.h>

#include "reduce_parallel.h"
#include "registry.h"
#include "se_rows.h"

namespace cream {
namespace act_avx2 {
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define CREAM_SIMD_AVX2 1
#include "activation_simd.h"
#include "activation_kernels.inc"
#undef CREAM_SIMD_AVX2
#pragma GCC pop_options
}  // namespace act_avx2
namespace act_base {
#include "activation_simd.h"
#include "activation_kernels.inc"
}  // namespace act_base

namespace {

struct ActKernels {
  const act_base::ForwardFn* forward;
  const act_base::BackwardFn* fromInput;
  const act_base::BackwardFn* fromOutput;
  void (*scaleRows)(const float*, const float*, float*, int64_t, int64_t, int64_t);
  void (*channelDot)(const float*, const float*, int64_t, int64_t, float*, float*, double*);
  void (*scaleAddRows)(const float*, const float*, const float*, float*, int64_t, int64_t, int64_t);
  void (*seImage)(const float*, const float*, const float*, const float*, const float*, float*, int64_t, int64_t,
                  int64_t, float*);
};

const ActKernels& kernels() {
  static const ActKernels k = [] {
    if (useAvx2Kernels()) {
      return ActKernels{act_avx2::kForward, act_avx2::kBackwardFromInput, act_avx2::kBackwardFromOutput,
                        act_avx2::scaleRows, act_avx2::channelDot, act_avx2::scaleAddRows, act_avx2::seImage};
    }
    return ActKernels{act_base::kForward, act_base::kBackwardFromInput, act_base::kBackwardFromOutput,
                      act_base::scaleRows, act_base::channelDot, act_base::scaleAddRows, act_base::seImage};
  }();
  return k;
}

}  // namespace

const SeRowKernels& seRowKernels() {
  static const SeRowKernels k{kernels().scaleRows, kernels().scaleAddRows};
  return k;
}

namespace {

int activation(const Napi::CallbackInfo& info, size_t i, const char* op) {
  const int64_t a = num(info, i);
  if (a < 0 || a > 5) throw KernelError{std::string(op) + ": unknown activation code " + std::to_string(a)};
  return static_cast<int>(a);
}

void sameLen(const Napi::CallbackInfo& info, size_t i, size_t j, const char* op) {
  if (len(info, i) != len(info, j)) {
    throw KernelError{std::string(op) + ": length mismatch " + std::to_string(len(info, i)) + " vs " +
                      std::to_string(len(info, j))};
  }
}

// Splits a flat range into chunks aligned to 8 elements.
template <typename F>
void parallelFlat(int64_t n, F f) {
  const int64_t blocks = (n + 7) / 8;
  parallelChunks(blocks, chunkCount(blocks, 8),
                 [&](int64_t b0, int64_t b1, int64_t) { f(b0 * 8, std::min(b1 * 8, n)); });
}

}  // namespace

// actForward(code, x, y): y = act(x); codes 0 none, 1 relu, 2 relu6, 3 swish, 4 sigmoid, 5 hardSigmoid.
static Napi::Value ActForward(const Napi::CallbackInfo& info) {
  const int a = activation(info, 0, "actForward");
  const float* x = f32(info, 1);
  float* y = f32(info, 2);
  sameLen(info, 1, 2, "actForward");
  const auto fn = kernels().forward[a];
  parallelFlat(len(info, 1), [&](int64_t i0, int64_t i1) { fn(x, y, i0, i1); });
  return info.Env().Undefined();
}

// actBackward(code, saved, g, gx, fromOutput): gx = g * act'(.), where `saved` is the forward's
// output when fromOutput (relu, relu6, sigmoid, hardSigmoid), else its input.
static Napi::Value ActBackward(const Napi::CallbackInfo& info) {
  const int a = activation(info, 0, "actBackward");
  const float* saved = f32(info, 1);
  const float* g = f32(info, 2);
  float* gx = f32(info, 3);
  const bool fromOutput = flag(info, 4);
  sameLen(info, 1, 2, "actBackward");
  sameLen(info, 1, 3, "actBackward");
  const auto fn = fromOutput ? kernels().fromOutput[a] : kernels().fromInput[a];
  if (!fn) throw KernelError{"actBackward: activation " + std::to_string(a) + " needs its input, not its output"};
  parallelFlat(len(info, 1), [&](int64_t i0, int64_t i1) { fn(saved, g, gx, i0, i1); });
  return info.Env().Undefined();
}

static void checkSe(const Napi::CallbackInfo& info, const char* op, int64_t N, int64_t HW, int64_t C, size_t big0,
                    size_t big1, size_t small) {
  if (N <= 0 || HW <= 0 || C <= 0) throw KernelError{std::string(op) + ": dimensions must be positive"};
  const size_t nx = static_cast<size_t>(N * HW * C), ns = static_cast<size_t>(N * C);
  if (len(info, big0) != nx || len(info, big1) != nx || len(info, small) != ns) {
    throw KernelError{std::string(op) + ": arrays do not match N=" + std::to_string(N) + " HW=" + std::to_string(HW) +
                      " C=" + std::to_string(C)};
  }
}

// mulChannel(x, s, N, HW, C, y): y[n, hw, c] = x[n, hw, c] * s[n, c]. Also the x-gradient (g, s).
static Napi::Value MulChannel(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const float* s = f32(info, 1);
  const int64_t N = num(info, 2), HW = num(info, 3), C = num(info, 4);
  float* y = f32(info, 5);
  checkSe(info, "mulChannel", N, HW, C, 0, 5, 1);
  const auto fn = kernels().scaleRows;
  parallelChunks(N * HW, chunkCount(N * HW, C), [&](int64_t r0, int64_t r1, int64_t) {
    // Split the row block at image boundaries, where the scale row changes.
    for (int64_t r = r0; r < r1;) {
      const int64_t n = r / HW, end = std::min(r1, (n + 1) * HW);
      fn(x, s + n * C, y, C, r, end);
      r = end;
    }
  });
  return info.Env().Undefined();
}

// seInference(x, wReduce, bReduce, wExpand, bExpand, N, HW, C, R, y): squeeze-excite for inference
// in one call (pool, dense + ReLU, dense + hard-sigmoid, channel scaling), images in parallel.
// Weights [C, R] and [R, C]. y may be x.
static Napi::Value SeInference(const Napi::CallbackInfo& info) {
  const char* op = "seInference";
  const int64_t N = num(info, 5), HW = num(info, 6), C = num(info, 7), R = num(info, 8);
  if (N <= 0 || HW <= 0 || C <= 0 || R <= 0) throw KernelError{std::string(op) + ": dimensions must be positive"};
  expectLen(info, 0, N * HW * C, op, "x");
  expectLen(info, 1, C * R, op, "wReduce");
  expectLen(info, 2, R, op, "bReduce");
  expectLen(info, 3, R * C, op, "wExpand");
  expectLen(info, 4, C, op, "bExpand");
  expectLen(info, 9, N * HW * C, op, "y");
  const float *x = f32(info, 0), *wR = f32(info, 1), *bR = f32(info, 2), *wE = f32(info, 3), *bE = f32(info, 4);
  float* y = f32(info, 9);
  const auto fn = kernels().seImage;
  const int64_t scratchFloats = 2 * pad8(C) + pad8(R);
  parallelRows(N, imageThreads(N, N * HW * C), [&](int64_t n0, int64_t n1, int) {
    std::vector<float> scratch(scratchFloats);
    for (int64_t n = n0; n < n1; ++n) fn(x + n * HW * C, wR, bR, wE, bE, y + n * HW * C, HW, C, R, scratch.data());
  });
  return info.Env().Undefined();
}

// mulChannelGradScale(g, x, N, HW, C, gs): gs[n, c] = sum_hw g[n, hw, c] * x[n, hw, c].
static Napi::Value MulChannelGradScale(const Napi::CallbackInfo& info) {
  const float* g = f32(info, 0);
  const float* x = f32(info, 1);
  const int64_t N = num(info, 2), HW = num(info, 3), C = num(info, 4);
  float* gs = f32(info, 5);
  checkSe(info, "mulChannelGradScale", N, HW, C, 0, 1, 5);
  const auto fn = kernels().channelDot;
  parallelChunks(N, chunkCount(N, HW * C), [&](int64_t n0, int64_t n1, int64_t) {
    std::vector<float> acc(pad8(C));
    std::vector<double> total(pad8(C));
    for (int64_t n = n0; n < n1; ++n) fn(g + n * HW * C, x + n * HW * C, C, HW, gs + n * C, acc.data(), total.data());
  });
  return info.Env().Undefined();
}

// seInputGrad(g, s, gPooled, N, HW, C, gx): gx[n, hw, c] = g[n, hw, c] * s[n, c] + gPooled[n, c] / HW,
// the x-gradient of squeeze-excite (x scaled by s, and pooled into s's input) written in one pass.
static Napi::Value SeInputGrad(const Napi::CallbackInfo& info) {
  const float* g = f32(info, 0);
  const float* s = f32(info, 1);
  const float* gPooled = f32(info, 2);
  const int64_t N = num(info, 3), HW = num(info, 4), C = num(info, 5);
  float* gx = f32(info, 6);
  checkSe(info, "seInputGrad", N, HW, C, 0, 6, 1);
  if (len(info, 2) != static_cast<size_t>(N * C)) throw KernelError{"seInputGrad: gPooled must have N*C elements"};
  // The pooled gradient spread over HW positions, rounded as globalAvgPoolBackward rounds it.
  const float inv = 1.f / static_cast<float>(HW);
  std::vector<float> spread(N * C + 8, 0.f);
  for (int64_t i = 0; i < N * C; ++i) spread[i] = gPooled[i] * inv;
  const auto fn = kernels().scaleAddRows;
  parallelChunks(N * HW, chunkCount(N * HW, C), [&](int64_t r0, int64_t r1, int64_t) {
    for (int64_t r = r0; r < r1;) {
      const int64_t n = r / HW, end = std::min(r1, (n + 1) * HW);
      fn(g, s + n * C, spread.data() + n * C, gx, C, r, end);
      r = end;
    }
  });
  return info.Env().Undefined();
}

CREAM_EXPORT("actForward", ActForward);
CREAM_EXPORT("actBackward", ActBackward);
CREAM_EXPORT("mulChannel", MulChannel);
CREAM_EXPORT("mulChannelGradScale", MulChannelGradScale);
CREAM_EXPORT("seInputGrad", SeInputGrad);
CREAM_EXPORT("seInference", SeInference);

}  // namespace cream
