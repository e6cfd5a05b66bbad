// Depthwise convolution: N-API entry points, geometry checks, dispatch, and the portable scalar
// kernels (used on CPUs without AVX2, for kernels wider than 7 or strides above 2, and by the tests
// as a reference for the vector kernels).
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "depthwise.h"
#include "registry.h"

namespace cream::dw {

int threadsFor(const Geometry& g) {
  const int64_t macs = g.N * g.Ho * g.Wo * g.C * g.KH * g.KW;
  return macs < (int64_t{1} << 19) ? 1 : omp_get_max_threads();
}

int64_t chunkRows(int64_t rows, int threads) {
  // About 8 chunks per thread: enough to balance, few enough that re-filling the padded rows at
  // each chunk start costs little.
  return std::max<int64_t>(1, (rows + 8 * threads - 1) / (8 * threads));
}

// ---- scalar kernels ----------------------------------------------------------------------------

void forwardScalar(const Geometry& g, const float* x, const float* w, float* y) {
  const int64_t C = g.C, s = g.stride;
#pragma omp parallel for schedule(static) num_threads(threadsFor(g))
  for (int64_t row = 0; row < g.N * g.Ho; ++row) {
    const int64_t n = row / g.Ho, oh = row % g.Ho;
    float* yrow = y + row * g.Wo * C;
    std::fill(yrow, yrow + g.Wo * C, 0.0f);
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = oh * s - g.padH + kh;
      if (ih < 0 || ih >= g.H) continue;
      const float* xrow = x + (n * g.H + ih) * g.W * C;
      for (int64_t ow = 0; ow < g.Wo; ++ow) {
        float* yp = yrow + ow * C;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t iw = ow * s - g.padW + kw;
          if (iw < 0 || iw >= g.W) continue;
          const float* xp = xrow + iw * C;
          const float* wp = w + (kh * g.KW + kw) * C;
          for (int64_t c = 0; c < C; ++c) yp[c] += xp[c] * wp[c];
        }
      }
    }
  }
}

void backwardInputScalar(const Geometry& g, const float* gy, const float* w, float* gx) {
  const int64_t C = g.C, s = g.stride;
#pragma omp parallel for schedule(static) num_threads(threadsFor(g))
  for (int64_t row = 0; row < g.N * g.H; ++row) {
    const int64_t n = row / g.H, ih = row % g.H;
    float* gxrow = gx + row * g.W * C;
    std::fill(gxrow, gxrow + g.W * C, 0.0f);
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t th = ih + g.padH - kh;
      if (th < 0 || th % s != 0 || th / s >= g.Ho) continue;
      const float* gyrow = gy + (n * g.Ho + th / s) * g.Wo * C;
      for (int64_t iw = 0; iw < g.W; ++iw) {
        float* gp = gxrow + iw * C;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t tw = iw + g.padW - kw;
          if (tw < 0 || tw % s != 0 || tw / s >= g.Wo) continue;
          const float* yp = gyrow + (tw / s) * C;
          const float* wp = w + (kh * g.KW + kw) * C;
          for (int64_t c = 0; c < C; ++c) gp[c] += yp[c] * wp[c];
        }
      }
    }
  }
}

void backwardWeightScalar(const Geometry& g, const float* x, const float* gy, float* gw) {
  const int64_t C = g.C, s = g.stride, taps = g.KH * g.KW * C;
  const int threads = threadsFor(g);
  thread_local Scratch partialsOfCaller;
  Scratch& scalarPartials = partialsOfCaller;  // the region's threads use the caller's buffers
  scalarPartials.prepare(threads, taps);
#pragma omp parallel num_threads(threads)
  {
    const int team = omp_get_num_threads();
    float* part = scalarPartials.get(omp_get_thread_num());
    std::fill(part, part + taps, 0.0f);
#pragma omp for schedule(static)
    for (int64_t row = 0; row < g.N * g.Ho; ++row) {
      const int64_t n = row / g.Ho, oh = row % g.Ho;
      const float* gyrow = gy + row * g.Wo * C;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t ih = oh * s - g.padH + kh;
        if (ih < 0 || ih >= g.H) continue;
        const float* xrow = x + (n * g.H + ih) * g.W * C;
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          const float* yp = gyrow + ow * C;
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t iw = ow * s - g.padW + kw;
            if (iw < 0 || iw >= g.W) continue;
            const float* xp = xrow + iw * C;
            float* pp = part + (kh * g.KW + kw) * C;
            for (int64_t c = 0; c < C; ++c) pp[c] += xp[c] * yp[c];
          }
        }
      }
    }
    // The implicit barrier of `omp for` above makes every partial complete before the reduction.
#pragma omp for schedule(static)
    for (int64_t i = 0; i < taps; ++i) {
      float sum = 0;
      for (int t = 0; t < team; ++t) sum += scalarPartials.get(t)[i];
      gw[i] = sum;
    }
  }
}

// ---- binding -----------------------------------------------------------------------------------

static bool forceScalar = false;

static bool cpuHasAvx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return has;
}

static bool useAvx2(const Geometry& g) { return !forceScalar && cpuHasAvx2() && avx2Handles(g); }

static std::string dims(const Geometry& g) {
  return "x [" + std::to_string(g.N) + ", " + std::to_string(g.H) + ", " + std::to_string(g.W) + ", " +
         std::to_string(g.C) + "], kernel " + std::to_string(g.KH) + "x" + std::to_string(g.KW) + ", stride " +
         std::to_string(g.stride) + ", padding " + std::to_string(g.padH) + "/" + std::to_string(g.padW);
}

// Validates the sizes and fills in the output size.
static void checkGeometry(Geometry& g, const char* op) {
  if (g.N < 1 || g.H < 1 || g.W < 1 || g.C < 1 || g.KH < 1 || g.KW < 1 || g.stride < 1 || g.padH < 0 || g.padW < 0) {
    throw KernelError{std::string(op) + ": invalid geometry " + dims(g)};
  }
  if (g.H + 2 * g.padH < g.KH || g.W + 2 * g.padW < g.KW) {
    throw KernelError{std::string(op) + ": kernel larger than the padded input, " + dims(g)};
  }
  g.Ho = (g.H + 2 * g.padH - g.KH) / g.stride + 1;
  g.Wo = (g.W + 2 * g.padW - g.KW) / g.stride + 1;
}

Geometry geometryArgs(const Napi::CallbackInfo& info, size_t first, const char* op) {
  Geometry g{};
  g.N = num(info, first), g.H = num(info, first + 1), g.W = num(info, first + 2), g.C = num(info, first + 3);
  g.KH = num(info, first + 4), g.KW = num(info, first + 5), g.stride = num(info, first + 6);
  g.padH = num(info, first + 7), g.padW = num(info, first + 8);
  checkGeometry(g, op);
  return g;
}

// Arguments (after the three arrays): N, H, W, C, KH, KW, stride, padH, padW.
static Geometry geometry(const Napi::CallbackInfo& info, const char* op) { return geometryArgs(info, 3, op); }

void expectLength(const Napi::CallbackInfo& info, size_t i, int64_t want, const char* op, const char* what,
                  const Geometry& g) {
  if (static_cast<int64_t>(len(info, i)) != want) {
    throw KernelError{std::string(op) + ": " + what + " has " + std::to_string(len(info, i)) + " elements, expected " +
                      std::to_string(want) + " for " + dims(g)};
  }
}

bool readsEveryRow(const Geometry& g) {
  return g.stride <= g.KH && g.padH < g.KH && (g.Ho - 1) * g.stride - g.padH + g.KH >= g.H;
}

void forward(const Geometry& g, const float* x, const float* w, float* y, const RowsDoneFn* done,
             const RowSourceFn* source) {
  if (source && !(useAvx2(g) && readsEveryRow(g))) {
    // Kernels that read x directly: x made whole first.
#pragma omp parallel for schedule(static) num_threads(threadsFor(g))
    for (int64_t row = 0; row < g.N * g.H; ++row) (*source)(row, true, nullptr);
    source = nullptr;
  }
  if (useAvx2(g)) return forwardAvx2(g, x, w, y, done, source);
  forwardScalar(g, x, w, y);
  if (done) (*done)(0, 0, g.N * g.Ho);
}

int64_t forwardChunks(const Geometry& g) { return useAvx2(g) ? forwardChunksAvx2(g) : 1; }

void backward(const Geometry& g, const float* x, const float* gy, const float* w, float* gx, float* gw,
              const GradRowsFn* gradRows, const InputRowsDoneFn* inputDone) {
  if (useAvx2(g)) return backwardAvx2(g, x, gy, w, gx, gw, gradRows, inputDone);
  std::vector<float> whole;
  if (gradRows) gy = wholeGrad(g, *gradRows, whole);
  backwardInputScalar(g, gy, w, gx);
  backwardWeightScalar(g, x, gy, gw);
  if (inputDone) (*inputDone)(0, 0, g.N * g.H);
}

int64_t backwardChunks(const Geometry& g) { return useAvx2(g) ? backwardChunksAvx2(g) : 1; }

// depthwiseForward(x, w, y, N, H, W, C, KH, KW, stride, padH, padW): y [N, Ho, Wo, C] = x (*) w
static Napi::Value Forward(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const float* w = f32(info, 1);
  float* y = f32(info, 2);
  const Geometry g = geometry(info, "depthwiseForward");
  expectLength(info, 0, g.N * g.H * g.W * g.C, "depthwiseForward", "x", g);
  expectLength(info, 1, g.KH * g.KW * g.C, "depthwiseForward", "w", g);
  expectLength(info, 2, g.N * g.Ho * g.Wo * g.C, "depthwiseForward", "y", g);
  forward(g, x, w, y);
  return info.Env().Undefined();
}

// depthwiseBackwardInput(gy, w, gx, N, H, W, C, KH, KW, stride, padH, padW): gx [N, H, W, C]
static Napi::Value BackwardInput(const Napi::CallbackInfo& info) {
  const float* gy = f32(info, 0);
  const float* w = f32(info, 1);
  float* gx = f32(info, 2);
  const Geometry g = geometry(info, "depthwiseBackwardInput");
  expectLength(info, 0, g.N * g.Ho * g.Wo * g.C, "depthwiseBackwardInput", "gy", g);
  expectLength(info, 1, g.KH * g.KW * g.C, "depthwiseBackwardInput", "w", g);
  expectLength(info, 2, g.N * g.H * g.W * g.C, "depthwiseBackwardInput", "gx", g);
  if (useAvx2(g)) backwardInputAvx2(g, gy, w, gx);
  else backwardInputScalar(g, gy, w, gx);
  return info.Env().Undefined();
}

// depthwiseBackwardWeight(x, gy, gw, N, H, W, C, KH, KW, stride, padH, padW): gw [KH, KW, C]
static Napi::Value BackwardWeight(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const float* gy = f32(info, 1);
  float* gw = f32(info, 2);
  const Geometry g = geometry(info, "depthwiseBackwardWeight");
  expectLength(info, 0, g.N * g.H * g.W * g.C, "depthwiseBackwardWeight", "x", g);
  expectLength(info, 1, g.N * g.Ho * g.Wo * g.C, "depthwiseBackwardWeight", "gy", g);
  expectLength(info, 2, g.KH * g.KW * g.C, "depthwiseBackwardWeight", "gw", g);
  if (useAvx2(g)) backwardWeightAvx2(g, x, gy, gw);
  else backwardWeightScalar(g, x, gy, gw);
  return info.Env().Undefined();
}

// depthwiseBackward(x, gy, w, gx, gw, N, H, W, C, KH, KW, stride, padH, padW): both gradients,
// reading gy from memory once (cheaper than the two separate kernels when both are needed).
static Napi::Value Backward(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const float* gy = f32(info, 1);
  const float* w = f32(info, 2);
  float* gx = f32(info, 3);
  float* gw = f32(info, 4);
  const Geometry g = geometryArgs(info, 5, "depthwiseBackward");
  expectLength(info, 0, g.N * g.H * g.W * g.C, "depthwiseBackward", "x", g);
  expectLength(info, 1, g.N * g.Ho * g.Wo * g.C, "depthwiseBackward", "gy", g);
  expectLength(info, 2, g.KH * g.KW * g.C, "depthwiseBackward", "w", g);
  expectLength(info, 3, g.N * g.H * g.W * g.C, "depthwiseBackward", "gx", g);
  expectLength(info, 4, g.KH * g.KW * g.C, "depthwiseBackward", "gw", g);
  backward(g, x, gy, w, gx, gw);
  return info.Env().Undefined();
}

// depthwiseForceScalar(force?: boolean) -> 'avx2' | 'scalar': with `true`, the portable scalar
// kernels run even where the vector kernels would (so tests can check one against the other);
// `false` restores the automatic choice. Returns the family now used for the geometries the
// vector kernels cover.
static Napi::Value ForceScalar(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && !info[0].IsUndefined()) forceScalar = flag(info, 0);
  return Napi::String::New(info.Env(), !forceScalar && cpuHasAvx2() ? "avx2" : "scalar");
}

CREAM_EXPORT("depthwiseForward", Forward);
CREAM_EXPORT("depthwiseBackwardInput", BackwardInput);
CREAM_EXPORT("depthwiseBackwardWeight", BackwardWeight);
CREAM_EXPORT("depthwiseBackward", Backward);
CREAM_EXPORT("depthwiseForceScalar", ForceScalar);

}  // namespace cream::dw
