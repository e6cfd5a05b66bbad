// Pooling over NHWC: global average (squeeze-excite and the classifier head), windowed average
// (count_include_pad, like PyTorch's default) and max. Channel loops are innermost and contiguous,
// so the compiler vectorises them; images are split across threads (backward scatters stay inside
// one image, so no two threads write the same element).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "reduce_parallel.h"
#include "registry.h"

namespace cream {

namespace {

struct Geometry {
  int64_t N, H, W, C, KH, KW, SH, SW, PH, PW, OH, OW;
  int64_t inImage() const { return H * W * C; }
  int64_t outImage() const { return OH * OW * C; }
};

// Arguments (x, N, H, W, C, KH, KW, SH, SW, PH, PW, out...) from index `at`; checks the geometry.
Geometry geometry(const Napi::CallbackInfo& info, size_t at, const char* op) {
  Geometry g{num(info, at), num(info, at + 1), num(info, at + 2), num(info, at + 3), num(info, at + 4),
             num(info, at + 5), num(info, at + 6), num(info, at + 7), num(info, at + 8), num(info, at + 9), 0, 0};
  if (g.N <= 0 || g.H <= 0 || g.W <= 0 || g.C <= 0 || g.KH <= 0 || g.KW <= 0 || g.SH <= 0 || g.SW <= 0 || g.PH < 0 ||
      g.PW < 0 || 2 * g.PH > g.KH || 2 * g.PW > g.KW) {
    throw KernelError{std::string(op) + ": invalid pooling geometry (padding must be at most half the kernel)"};
  }
  g.OH = (g.H + 2 * g.PH - g.KH) / g.SH + 1;
  g.OW = (g.W + 2 * g.PW - g.KW) / g.SW + 1;
  if (g.H + 2 * g.PH < g.KH || g.W + 2 * g.PW < g.KW) {
    throw KernelError{std::string(op) + ": kernel larger than padded input"};
  }
  return g;
}

}  // namespace

// globalAvgPool(x, N, HW, C, y): y[n, c] = mean over hw of x[n, hw, c] (float runs flushed to double).
static Napi::Value GlobalAvgPool(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 0);
  const int64_t N = num(info, 1), HW = num(info, 2), C = num(info, 3);
  float* y = f32(info, 4);
  if (N <= 0 || HW <= 0 || C <= 0) throw KernelError{"globalAvgPool: dimensions must be positive"};
  expectLen(info, 0, N * HW * C, "globalAvgPool", "x");
  expectLen(info, 4, N * C, "globalAvgPool", "y");
  parallelRows(N, imageThreads(N, N * HW * C), [&](int64_t n0, int64_t n1, int) {
    std::vector<float> acc(C);
    std::vector<double> total(C);
    for (int64_t n = n0; n < n1; ++n) {
      std::fill(acc.begin(), acc.end(), 0.f);
      std::fill(total.begin(), total.end(), 0.0);
      const float* xn = x + n * HW * C;
      for (int64_t r = 0; r < HW; ++r) {
        float* a = acc.data();
        const float* xr = xn + r * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) a[c] += xr[c];
        if (r % 32 == 31 || r == HW - 1) {
          for (int64_t c = 0; c < C; ++c) {
            total[c] += acc[c];
            acc[c] = 0.f;
          }
        }
      }
      for (int64_t c = 0; c < C; ++c) y[n * C + c] = static_cast<float>(total[c] / HW);
    }
  });
  return info.Env().Undefined();
}

// globalAvgPoolBackward(g, N, HW, C, gx): gx[n, hw, c] = g[n, c] / HW.
static Napi::Value GlobalAvgPoolBackward(const Napi::CallbackInfo& info) {
  const float* g = f32(info, 0);
  const int64_t N = num(info, 1), HW = num(info, 2), C = num(info, 3);
  float* gx = f32(info, 4);
  if (N <= 0 || HW <= 0 || C <= 0) throw KernelError{"globalAvgPoolBackward: dimensions must be positive"};
  expectLen(info, 0, N * C, "globalAvgPoolBackward", "g");
  expectLen(info, 4, N * HW * C, "globalAvgPoolBackward", "gx");
  const float inv = 1.f / static_cast<float>(HW);
  parallelRows(N * HW, rowThreads(N * HW * C), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* gn = g + (r / HW) * C;
      float* out = gx + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) out[c] = gn[c] * inv;
    }
  });
  return info.Env().Undefined();
}

// avgPool2d(x, N, H, W, C, KH, KW, SH, SW, PH, PW, y): window sum / (KH * KW), padding counted.
static Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  const char* op = "avgPool2d";
  const float* x = f32(info, 0);
  const Geometry g = geometry(info, 1, op);
  float* y = f32(info, 11);
  expectLen(info, 0, g.N * g.inImage(), op, "x");
  expectLen(info, 11, g.N * g.outImage(), op, "y");
  const float inv = 1.f / static_cast<float>(g.KH * g.KW);
  const int64_t C = g.C;
  parallelRows(g.N * g.OH, rowThreads(g.N * g.outImage() * g.KH * g.KW), [&](int64_t r0, int64_t r1, int) {
    std::vector<float> acc(C);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / g.OH, oh = r % g.OH;
      const int64_t ih0 = std::max<int64_t>(0, oh * g.SH - g.PH), ih1 = std::min(g.H, oh * g.SH - g.PH + g.KH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t iw0 = std::max<int64_t>(0, ow * g.SW - g.PW), iw1 = std::min(g.W, ow * g.SW - g.PW + g.KW);
        float* a = acc.data();
        std::fill(acc.begin(), acc.end(), 0.f);
        for (int64_t ih = ih0; ih < ih1; ++ih) {
          for (int64_t iw = iw0; iw < iw1; ++iw) {
            const float* xp = x + ((n * g.H + ih) * g.W + iw) * C;
#pragma omp simd
            for (int64_t c = 0; c < C; ++c) a[c] += xp[c];
          }
        }
        float* yp = y + ((n * g.OH + oh) * g.OW + ow) * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) yp[c] = a[c] * inv;
      }
    }
  });
  return info.Env().Undefined();
}

// avgPool2dBackward(gy, N, H, W, C, KH, KW, SH, SW, PH, PW, gx)
static Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  const char* op = "avgPool2dBackward";
  const float* gy = f32(info, 0);
  const Geometry g = geometry(info, 1, op);
  float* gx = f32(info, 11);
  expectLen(info, 0, g.N * g.outImage(), op, "gy");
  expectLen(info, 11, g.N * g.inImage(), op, "gx");
  const float inv = 1.f / static_cast<float>(g.KH * g.KW);
  const int64_t C = g.C;
  parallelRows(g.N, imageThreads(g.N, g.N * g.outImage() * g.KH * g.KW), [&](int64_t n0, int64_t n1, int) {
    for (int64_t n = n0; n < n1; ++n) {
      std::memset(gx + n * g.inImage(), 0, g.inImage() * sizeof(float));
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        const int64_t ih0 = std::max<int64_t>(0, oh * g.SH - g.PH), ih1 = std::min(g.H, oh * g.SH - g.PH + g.KH);
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t iw0 = std::max<int64_t>(0, ow * g.SW - g.PW), iw1 = std::min(g.W, ow * g.SW - g.PW + g.KW);
          const float* gp = gy + ((n * g.OH + oh) * g.OW + ow) * C;
          for (int64_t ih = ih0; ih < ih1; ++ih) {
            for (int64_t iw = iw0; iw < iw1; ++iw) {
              float* xp = gx + ((n * g.H + ih) * g.W + iw) * C;
#pragma omp simd
              for (int64_t c = 0; c < C; ++c) xp[c] += gp[c] * inv;
            }
          }
        }
      }
    }
  });
  return info.Env().Undefined();
}

// maxPool2d(x, N, H, W, C, KH, KW, SH, SW, PH, PW, y, argmax): padding never wins (it is -inf);
// ties keep the first element in window order and NaN propagates, as in PyTorch. argmax (int32,
// ih * W + iw within the image, per output element) may be empty when no backward is needed.
static Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  const char* op = "maxPool2d";
  const float* x = f32(info, 0);
  const Geometry g = geometry(info, 1, op);
  float* y = f32(info, 11);
  int32_t* argmax = i32(info, 12);
  const bool wantArg = len(info, 12) != 0;
  expectLen(info, 0, g.N * g.inImage(), op, "x");
  expectLen(info, 11, g.N * g.outImage(), op, "y");
  if (wantArg) expectLen(info, 12, g.N * g.outImage(), op, "argmax");
  const int64_t C = g.C;
  parallelRows(g.N * g.OH, rowThreads(g.N * g.outImage() * g.KH * g.KW), [&](int64_t r0, int64_t r1, int) {
    std::vector<float> best(C);
    std::vector<int32_t> where(C);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / g.OH, oh = r % g.OH;
      const int64_t ih0 = std::max<int64_t>(0, oh * g.SH - g.PH), ih1 = std::min(g.H, oh * g.SH - g.PH + g.KH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t iw0 = std::max<int64_t>(0, ow * g.SW - g.PW), iw1 = std::min(g.W, ow * g.SW - g.PW + g.KW);
        float* b = best.data();
        int32_t* w = where.data();
        std::fill(best.begin(), best.end(), -INFINITY);
        std::fill(where.begin(), where.end(), static_cast<int32_t>(ih0 * g.W + iw0));
        for (int64_t ih = ih0; ih < ih1; ++ih) {
          for (int64_t iw = iw0; iw < iw1; ++iw) {
            const float* xp = x + ((n * g.H + ih) * g.W + iw) * C;
            const int32_t pos = static_cast<int32_t>(ih * g.W + iw);
#pragma omp simd
            for (int64_t c = 0; c < C; ++c) {
              const bool take = xp[c] > b[c] || (xp[c] != xp[c] && b[c] == b[c]);
              b[c] = take ? xp[c] : b[c];
              w[c] = take ? pos : w[c];
            }
          }
        }
        const int64_t o = ((n * g.OH + oh) * g.OW + ow) * C;
        std::memcpy(y + o, b, C * sizeof(float));
        if (wantArg) std::memcpy(argmax + o, w, C * sizeof(int32_t));
      }
    }
  });
  return info.Env().Undefined();
}

// maxPool2dBackward(gy, argmax, N, H, W, C, KH, KW, SH, SW, PH, PW, gx)
static Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  const char* op = "maxPool2dBackward";
  const float* gy = f32(info, 0);
  const int32_t* argmax = i32(info, 1);
  const Geometry g = geometry(info, 2, op);
  float* gx = f32(info, 12);
  expectLen(info, 0, g.N * g.outImage(), op, "gy");
  expectLen(info, 1, g.N * g.outImage(), op, "argmax");
  expectLen(info, 12, g.N * g.inImage(), op, "gx");
  const int64_t C = g.C, outPix = g.OH * g.OW;
  parallelRows(g.N, imageThreads(g.N, g.N * g.outImage()), [&](int64_t n0, int64_t n1, int) {
    for (int64_t n = n0; n < n1; ++n) {
      float* gxn = gx + n * g.inImage();
      std::memset(gxn, 0, g.inImage() * sizeof(float));
      for (int64_t p = 0; p < outPix; ++p) {
        const int64_t o = (n * outPix + p) * C;
        for (int64_t c = 0; c < C; ++c) gxn[argmax[o + c] * C + c] += gy[o + c];
      }
    }
  });
  return info.Env().Undefined();
}

CREAM_EXPORT("globalAvgPool", GlobalAvgPool);
CREAM_EXPORT("globalAvgPoolBackward", GlobalAvgPoolBackward);
CREAM_EXPORT("avgPool2d", AvgPool2d);
CREAM_EXPORT("avgPool2dBackward", AvgPool2dBackward);
CREAM_EXPORT("maxPool2d", MaxPool2d);
CREAM_EXPORT("maxPool2dBackward", MaxPool2dBackward);

}  // namespace cream
