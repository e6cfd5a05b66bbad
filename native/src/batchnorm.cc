// Batch-norm over NHWC (channels innermost), with the following activation fused: two passes over
// memory forward (statistics, then normalise + activate) and two backward (reductions, then dx),
// recomputing the activation's input from x instead of storing it. Hand-written because oneDNN 2.6's NHWC
// batch-norm backward is ~2.4x slower than its blocked-layout one, and the fusion saves whole passes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <immintrin.h>

#include "batchnorm.h"
#include "reduce_parallel.h"
#include "registry.h"

namespace cream {
namespace bn_avx2 {
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define CREAM_SIMD_AVX2 1
#include "activation_simd.h"
#include "batchnorm_kernels.inc"
#undef CREAM_SIMD_AVX2
#pragma GCC pop_options
}  // namespace bn_avx2
namespace bn_base {
#include "activation_simd.h"
#include "batchnorm_kernels.inc"
}  // namespace bn_base

static_assert(bn_base::kNone == kBnActNone && bn_base::kSwish == kBnActSwish, "batchnorm.h's activation codes");

const BnKernels& bnKernels() {
  static const BnKernels k = [] {
    if (useAvx2Kernels()) {
      return BnKernels{bn_avx2::statsRange, bn_avx2::kApply, bn_avx2::kGradStats, bn_avx2::kGradInput,
                       bn_avx2::kGradStatsSwishWithOutput};
    }
    return BnKernels{bn_base::statsRange, bn_base::kApply, bn_base::kGradStats, bn_base::kGradInput,
                    bn_base::kGradStatsSwishWithOutput};
  }();
  return k;
}

int bnActivation(const Napi::CallbackInfo& info, size_t i, const char* op) {
  const int64_t a = num(info, i);
  if (a < kBnActNone || a > kBnActSwish) {
    throw KernelError{std::string(op) + ": unknown activation code " + std::to_string(a)};
  }
  return static_cast<int>(a);
}

void finishTrainingStats(const double* s1, const double* s2, const float* shift, int64_t rows, int64_t C,
                         double momentum, double eps, float* runMean, float* runVar, float* saveMean,
                         float* saveInvstd) {
  for (int64_t c = 0; c < C; ++c) {
    const double m1 = s1[c] / rows;
    const double var = std::max(0.0, s2[c] / rows - m1 * m1);
    const double m = shift[c] + m1;
    saveMean[c] = static_cast<float>(m);
    saveInvstd[c] = static_cast<float>(1.0 / std::sqrt(var + eps));
    runMean[c] = static_cast<float>((1 - momentum) * runMean[c] + momentum * m);
    runVar[c] = static_cast<float>((1 - momentum) * runVar[c] + momentum * var * rows / (rows - 1));
  }
}

BnGradCoefficients::BnGradCoefficients(const float* gamma, const float* invstd, const double* sdz,
                                       const double* sdzx, int64_t rows, int64_t C, bool training)
    : k1(pad8(C), 0.f), k2(pad8(C), 0.f), k3(pad8(C), 0.f) {
  // dx = a (dz - mean(dz) - xhat mean(dz xhat)) with a = gamma invstd, xhat = (x - mean) invstd.
  for (int64_t c = 0; c < C; ++c) {
    const double a = static_cast<double>(gamma[c]) * invstd[c];
    k1[c] = static_cast<float>(a);
    if (training) {
      k2[c] = static_cast<float>(-a * invstd[c] * invstd[c] * sdzx[c] / rows);
      k3[c] = static_cast<float>(-a * sdz[c] / rows);
    }
  }
}

BnAffine::BnAffine(const float* mean, const float* invstd, const float* gamma, const float* beta, int64_t C)
    : mean(padded(mean, C)), s(pad8(C), 0.f), beta(padded(beta, C)) {
  for (int64_t c = 0; c < C; ++c) s[c] = gamma[c] * invstd[c];
}

void bnApplyRows(int act, const float* x, float* y, int64_t rows, int64_t C, const BnAffine& a) {
  const BnKernels& k = bnKernels();
  parallelChunks(rows, chunkCount(rows, C), [&](int64_t r0, int64_t r1, int64_t) {
    k.apply[act](x, y, C, r0, r1, a.mean.data(), a.s.data(), a.beta.data());
  });
}

void bnGradSums(int act, const float* x, const float* dy, int64_t rows, int64_t C, const BnAffine& a,
                const float* invstd, float* dzOut, double* sdz, double* sdzx, float* dgamma, float* dbeta) {
  const BnKernels& k = bnKernels();
  const int64_t chunks = chunkCount(rows, C);
  ChannelSums sums(chunks, C);
  parallelChunks(rows, chunks, [&](int64_t r0, int64_t r1, int64_t chunk) {
    k.gradStats[act](x, dy, C, r0, r1, a.mean.data(), a.s.data(), a.beta.data(), sums.a(chunk), sums.b(chunk),
                     sums.accA(), sums.accB(), dzOut);
  });
  sums.combine();
  std::memcpy(sdz, sums.a(0), pad8(C) * sizeof(double));
  std::memcpy(sdzx, sums.b(0), pad8(C) * sizeof(double));
  bnAffineGrads(sdz, sdzx, invstd, C, dgamma, dbeta);
}

void bnAffineGrads(const double* sdz, const double* sdzx, const float* invstd, int64_t C, float* dgamma,
                   float* dbeta) {
  for (int64_t c = 0; c < C; ++c) {
    if (dbeta) dbeta[c] = static_cast<float>(sdz[c]);
    if (dgamma) dgamma[c] = static_cast<float>(sdzx[c] * invstd[c]);
  }
}

namespace {

int64_t channels(const Napi::CallbackInfo& info, size_t xArg, size_t cArg, const char* op) {
  const int64_t C = num(info, cArg);
  const int64_t n = static_cast<int64_t>(len(info, xArg));
  if (C <= 0 || n % C != 0) {
    throw KernelError{std::string(op) + ": " + std::to_string(n) + " elements are not rows of " + std::to_string(C) +
                      " channels"};
  }
  return C;
}

}  // namespace

// bnForward(x, C, gamma, beta, runningMean, runningVar, training, momentum, eps, act, y, saveMean, saveInvstd)
// Training: batch statistics (biased variance) normalise, running stats are updated in place with
// the unbiased variance. Inference: running stats normalise. saveMean/saveInvstd receive the
// statistics used, for the backward pass.
static Napi::Value BnForward(const Napi::CallbackInfo& info) {
  const char* op = "bnForward";
  const float* x = f32(info, 0);
  const int64_t C = channels(info, 0, 1, op);
  const float* gamma = f32(info, 2);
  const float* beta = f32(info, 3);
  float* runMean = f32(info, 4);
  float* runVar = f32(info, 5);
  const bool training = flag(info, 6);
  const double momentum = dbl(info, 7), eps = dbl(info, 8);
  const int act = bnActivation(info, 9, op);
  float* y = f32(info, 10);
  float* saveMean = f32(info, 11);
  float* saveInvstd = f32(info, 12);
  const size_t n = len(info, 0);
  expectLen(info, 10, n, op, "y");
  for (size_t i : {2, 3, 4, 5, 11, 12}) expectLen(info, i, C, op, "a per-channel array");
  const int64_t rows = static_cast<int64_t>(n) / C;
  const BnKernels& k = bnKernels();
  const int64_t chunks = chunkCount(static_cast<int64_t>(n) / C, C);

  if (training) {
    if (rows < 2) throw KernelError{"bnForward: training needs more than one value per channel"};
    std::vector<float> shift = padded(x, C);  // the first row
    ChannelSums sums(chunks, C);
    parallelChunks(rows, chunks, [&](int64_t r0, int64_t r1, int64_t chunk) {
      k.stats(x, C, r0, r1, shift.data(), sums.a(chunk), sums.b(chunk), sums.accA(), sums.accB());
    });
    sums.combine();
    finishTrainingStats(sums.a(0), sums.b(0), shift.data(), rows, C, momentum, eps, runMean, runVar, saveMean,
                        saveInvstd);
  } else {
    for (int64_t c = 0; c < C; ++c) {
      saveMean[c] = runMean[c];
      saveInvstd[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(runVar[c]) + eps));
    }
  }
  bnApplyRows(act, x, y, rows, C, BnAffine(saveMean, saveInvstd, gamma, beta, C));
  return info.Env().Undefined();
}

// bnBackward(x, dy, C, gamma, beta, mean, invstd, training, act, dx, dgamma, dbeta)
// mean/invstd are what bnForward saved. dx, dgamma, dbeta may be empty arrays: not wanted.
static Napi::Value BnBackward(const Napi::CallbackInfo& info) {
  const char* op = "bnBackward";
  const float* x = f32(info, 0);
  const float* dy = f32(info, 1);
  const int64_t C = channels(info, 0, 2, op);
  const float* gamma = f32(info, 3);
  const float* beta = f32(info, 4);
  const float* meanIn = f32(info, 5);
  const float* invstd = f32(info, 6);
  const bool training = flag(info, 7);
  const int act = bnActivation(info, 8, op);
  float* dx = f32(info, 9);
  float* dgamma = f32(info, 10);
  float* dbeta = f32(info, 11);
  const size_t n = len(info, 0);
  expectLen(info, 1, n, op, "dy");
  for (size_t i : {3, 4, 5, 6}) expectLen(info, i, C, op, "a per-channel array");
  const bool wantDx = len(info, 9) != 0, wantGamma = len(info, 10) != 0, wantBeta = len(info, 11) != 0;
  if (wantDx) expectLen(info, 9, n, op, "dx");
  if (wantGamma) expectLen(info, 10, C, op, "dgamma");
  if (wantBeta) expectLen(info, 11, C, op, "dbeta");
  const int64_t rows = static_cast<int64_t>(n) / C;
  const BnKernels& k = bnKernels();
  const int64_t chunks = chunkCount(static_cast<int64_t>(n) / C, C);
  const int64_t C8 = pad8(C);

  const BnAffine a(meanIn, invstd, gamma, beta, C);
  std::vector<double> sdz(C8, 0.0), sdzx(C8, 0.0);
  const bool firstPass = wantGamma || wantBeta || (wantDx && training);
  // Swish: the first pass leaves dz in dx, and the second reads it back as if there were no
  // activation, instead of recomputing sigmoid (4 more bytes per element each way, but swish's
  // derivative is the bottleneck of this kernel).
  const bool keepDz = firstPass && wantDx && act == kBnActSwish;
  if (firstPass) {
    bnGradSums(act, x, dy, rows, C, a, invstd, keepDz ? dx : nullptr, sdz.data(), sdzx.data(),
               wantGamma ? dgamma : nullptr, wantBeta ? dbeta : nullptr);
  }
  if (!wantDx) return info.Env().Undefined();

  const BnGradCoefficients kc(gamma, invstd, sdz.data(), sdzx.data(), rows, C, training);
  parallelChunks(rows, chunks, [&](int64_t r0, int64_t r1, int64_t) {
    if (keepDz) {
      k.gradInput[kBnActNone](x, dx, dx, C, r0, r1, a.mean.data(), a.s.data(), a.beta.data(), kc.k1.data(),
                              kc.k2.data(), kc.k3.data());
    } else {
      k.gradInput[act](x, dy, dx, C, r0, r1, a.mean.data(), a.s.data(), a.beta.data(), kc.k1.data(), kc.k2.data(),
                       kc.k3.data());
    }
  });
  return info.Env().Undefined();
}

CREAM_EXPORT("bnForward", BnForward);
CREAM_EXPORT("bnBackward", BnBackward);

}  // namespace cream
