// Batch-norm pieces shared by batchnorm.cc and the fused pointwise conv + batch-norm
// (pointwise_bn.cc): the row kernels (batchnorm_kernels.inc, AVX2 or portable), the per-channel sum
// accumulators, and the per-channel arithmetic between the passes.
#pragma once
#include <napi.h>
#include <omp.h>

#include <cstdint>
#include <vector>

#include "reduce_parallel.h"

namespace cream {

// Activation codes the batch-norm kernels fuse (activation_simd.h's Act, none..swish).
constexpr int kBnActNone = 0, kBnActSwish = 3;

// The row kernels of batchnorm_kernels.inc, each over rows [r0, r1) of a [rows, C] tensor; apply,
// gradStats and gradInput are indexed by activation code.
struct BnKernels {
  using StatsFn = void (*)(const float* x, int64_t C, int64_t r0, int64_t r1, const float* shift, double* s1,
                           double* s2, float* acc1, float* acc2);
  using ApplyFn = void (*)(const float* x, float* y, int64_t C, int64_t r0, int64_t r1, const float* mean,
                           const float* s, const float* beta);
  using GradStatsFn = void (*)(const float* x, const float* dy, int64_t C, int64_t r0, int64_t r1, const float* mean,
                               const float* s, const float* beta, double* sdz, double* sdzx, float* acc1, float* acc2,
                               float* dzOut);
  using GradInputFn = void (*)(const float* x, const float* dy, float* dx, int64_t C, int64_t r0, int64_t r1,
                               const float* mean, const float* s, const float* beta, const float* k1, const float* k2,
                               const float* k3);
  // gradStats for swish given also its output y (swish's derivative from input and output, no exponential).
  using GradStatsWithOutputFn = void (*)(const float* x, const float* y, const float* dy, int64_t C, int64_t r0,
                                         int64_t r1, const float* mean, const float* s, const float* beta, double* sdz,
                                         double* sdzx, float* acc1, float* acc2, float* dzOut);
  StatsFn stats;
  const ApplyFn* apply;
  const GradStatsFn* gradStats;
  const GradInputFn* gradInput;
  GradStatsWithOutputFn gradStatsSwishWithOutput;
};

const BnKernels& bnKernels();

// The activation code in argument i, checked to be one the kernels fuse.
int bnActivation(const Napi::CallbackInfo& info, size_t i, const char* op);

// Double accumulators for two per-channel sums, one pair per chunk of rows (combined in chunk
// order), and float run accumulators per thread. The kernels store to the run accumulators on every
// row, so each thread's pair starts on its own cache line: with 16 channels, two threads sharing a
// line made the statistics pass twice as slow on two threads as on one.
struct ChannelSums {
  static constexpr int64_t kLineFloats = 16;  // 64 bytes
  int64_t chunks, C8, threadStride;
  std::vector<double> partial;  // [chunks][2][C8]
  std::vector<float> scratch;   // [threads][threadStride], from the first 64-byte boundary
  float* scratchBase;
  ChannelSums(int64_t chunks, int64_t C)
      : chunks(chunks),
        C8(pad8(C)),
        threadStride((2 * C8 + kLineFloats - 1) / kLineFloats * kLineFloats),
        partial(chunks * 2 * C8, 0.0),
        scratch(omp_get_max_threads() * threadStride + kLineFloats) {
    const auto address = reinterpret_cast<uintptr_t>(scratch.data());
    scratchBase = scratch.data() + ((64 - address % 64) % 64) / sizeof(float);
  }
  double* a(int64_t chunk) { return partial.data() + chunk * 2 * C8; }
  double* b(int64_t chunk) { return a(chunk) + C8; }
  float* accA() { return scratchBase + omp_get_thread_num() * threadStride; }
  float* accB() { return accA() + C8; }
  void combine() {
    for (int64_t k = 1; k < chunks; ++k) {
      for (int64_t c = 0; c < C8; ++c) {
        a(0)[c] += a(k)[c];
        b(0)[c] += b(k)[c];
      }
    }
  }
};

// Training statistics from s1 = sum(x - shift), s2 = sum((x - shift)^2) over `rows` rows: saves the
// batch mean and 1/sqrt(biased var + eps), and moves the running mean and (unbiased) variance.
void finishTrainingStats(const double* s1, const double* s2, const float* shift, int64_t rows, int64_t C,
                         double momentum, double eps, float* runMean, float* runVar, float* saveMean,
                         float* saveInvstd);

// What the row kernels read per channel, zero-padded to 8 lanes: mean, s = gamma invstd and beta.
struct BnAffine {
  std::vector<float> mean, s, beta;
  BnAffine(const float* mean, const float* invstd, const float* gamma, const float* beta, int64_t C);
};

// y = act((x - mean) s + beta) over the rows of x [rows, C], the rows spread over the threads.
void bnApplyRows(int act, const float* x, float* y, int64_t rows, int64_t C, const BnAffine& a);

// The backward reductions over x, dy [rows, C]: sdz = sum(dz), sdzx = sum(dz (x - mean)) per channel
// (pad8(C) doubles each), dz = dy act'((x - mean) s + beta), also stored to dzOut when given. Writes
// dbeta = sdz and dgamma = sdzx invstd where those are given.
void bnGradSums(int act, const float* x, const float* dy, int64_t rows, int64_t C, const BnAffine& a,
                const float* invstd, float* dzOut, double* sdz, double* sdzx, float* dgamma, float* dbeta);

// dbeta = sdz and dgamma = sdzx invstd (each where given), from bnGradSums' reductions.
void bnAffineGrads(const double* sdz, const double* sdzx, const float* invstd, int64_t C, float* dgamma,
                   float* dbeta);

// dx = k1 dz + k2 (x - mean) + k3 per channel (padded to 8), from the backward reductions
// sdz = sum(dz), sdzx = sum(dz (x - mean)); in inference the statistics are constants and dx = k1 dz.
struct BnGradCoefficients {
  std::vector<float> k1, k2, k3;
  BnGradCoefficients(const float* gamma, const float* invstd, const double* sdz, const double* sdzx, int64_t rows,
                     int64_t C, bool training);
};

}  // namespace cream
