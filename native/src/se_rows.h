// Squeeze-excite's per-image channel scaling on rows of an [N * HW, C] tensor, for the pointwise conv
// that reads squeeze-excite's output without it being written out (pointwise_bn.cc,
// se_pointwise_bn.cc). The row kernels are activation.cc's (AVX2 or portable).
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

#include "registry.h"

namespace cream {

struct SeRowKernels {
  // y[r, c] = x[r, c] s[c] for rows [r0, r1) of one image (s: that image's scales).
  void (*scaleRows)(const float* x, const float* s, float* y, int64_t C, int64_t r0, int64_t r1);
  // gx[r, c] = g[r, c] s[c] + b[c] for rows [r0, r1) of one image, the product rounded first.
  void (*scaleAddRows)(const float* g, const float* s, const float* b, float* gx, int64_t C, int64_t r0, int64_t r1);
};

const SeRowKernels& seRowKernels();

// The rows per image in argument i (HW), checked against M rows and a scale array (argument
// scaleArg) of [M / HW, C].
inline int64_t imageRows(const Napi::CallbackInfo& info, size_t i, size_t scaleArg, int64_t m, int64_t C,
                         const char* op) {
  const int64_t hw = num(info, i);
  if (hw < 1 || m % hw != 0) {
    throw KernelError{std::string(op) + ": " + std::to_string(m) + " rows are not images of HW = " +
                      std::to_string(hw) + " rows"};
  }
  expectLen(info, scaleArg, m / hw * C, op, "scale");
  return hw;
}

// Calls f(image, r0, r1) for the pieces of rows [r, r + rows) that lie in one image of hw rows each.
template <typename F>
void forImageRows(int64_t r, int64_t rows, int64_t hw, F f) {
  for (int64_t r0 = r; r0 < r + rows;) {
    const int64_t image = r0 / hw, r1 = std::min(r + rows, (image + 1) * hw);
    f(image, r0, r1);
    r0 = r1;
  }
}

// out rows [0, rows) = x rows [r, r + rows) scaled by their image's row of s [N, C].
inline void scaleImageRows(const float* x, const float* s, int64_t r, int64_t rows, int64_t hw, int64_t C,
                           float* out) {
  const auto scale = seRowKernels().scaleRows;
  forImageRows(r, rows, hw, [&](int64_t image, int64_t r0, int64_t r1) {
    scale(x + r0 * C, s + image * C, out + (r0 - r) * C, C, 0, r1 - r0);
  });
}

}  // namespace cream
