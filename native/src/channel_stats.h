// Per-channel batch statistics of a [rows, C] block, for batch-norm statistics computed by the
// kernel that produced the data (gemmForwardStats) while each block is still in cache, instead of
// by a separate pass over the whole tensor. Blocks are combined in a fixed order (Chan et al.'s
// pairwise update), so the result does not depend on the thread count.
#pragma once
#include <cstdint>
#include <vector>

namespace cream {

struct BlockStats {
  int64_t count = 0;
  std::vector<double> mean, m2;  // m2: sum of squared deviations from the mean
};

// Statistics of rows [r0, r1) of x [*, C] (AVX2 when the CPU has it). `acc` holds 2 pad8(C) floats.
void blockStats(const float* x, int64_t C, int64_t r0, int64_t r1, BlockStats& out, float* acc);

// Folds `b` into `into` (block order matters only in the last bits; callers keep it fixed).
void mergeStats(BlockStats& into, const BlockStats& b);

}  // namespace cream
