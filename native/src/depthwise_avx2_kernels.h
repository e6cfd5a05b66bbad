// AVX2+FMA micro-kernels of the depthwise convolution and their dispatch tables: the register
// blocking lives here, the data movement (padded rows, threads) in depthwise_avx2.cc, the only
// file that includes this one. Every function is compiled for AVX2+FMA by attribute, so this code
// only runs after the run-time CPU check in depthwise.cc.
#pragma once
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <utility>

#define CREAM_AVX2 __attribute__((target("avx2,fma")))

namespace cream::dw::avx2 {

inline constexpr int kLanes = 16;     // channels per block
inline constexpr int kMaxTaps = 7;    // widest kernel the vector path handles
inline constexpr int kMaxPixels = 7;  // output pixels per register block (2 x 7 accumulators + 2 weights)
inline constexpr int kMaxGroup = 8;   // output rows whose weight gradient is summed in registers at once
inline constexpr int kMaxSlots = (kMaxGroup - 1) * 2 + kMaxTaps;

// ---- micro-kernels -----------------------------------------------------------------------------

// Hides a pointer's provenance from the optimiser. Consecutive taps read overlapping input, and
// without this GCC's predictive commoning carries the loaded vectors across loop iterations,
// which needs more than 16 registers and spills the accumulators.
inline void opaque(const float*& p) { asm("" : "+r"(p)); }

// A mask selecting the first `lanes` of 8 floats.
CREAM_AVX2 inline __m256i laneMask(int lanes) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Steps, in floats, from one channel block to the next.
struct BlockSteps {
  int64_t in, w, out;
};

// For `nblocks` blocks of NP output pixels (block b starts at pixel b * NP) and `ncb` channel
// blocks of 8 * V channels:
//   out[j * ostep + c] = sum_r sum_t in[r][(j * IS + t) * 16 + c] * wt[r][t * wstep + c].
// With M the last vector is stored under a mask of its first `lanes` lanes.
template <int V, bool M, int NP, int IS>
CREAM_AVX2 void corr(const float* const* in, const float* const* wt, int nrows, int taps, int64_t wstep, float* out,
                     int64_t ostep, int64_t nblocks, int64_t ncb, const BlockSteps& steps, int lanes) {
  const __m256i mask = laneMask(lanes);
  for (int64_t cb = 0; cb < ncb; ++cb) {
    for (int64_t b = 0; b < nblocks; ++b) {
      const int64_t inOffset = cb * steps.in + b * NP * IS * kLanes;
      __m256 acc[NP][V];
#pragma GCC unroll 8
      for (int j = 0; j < NP; ++j)
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) acc[j][v] = _mm256_setzero_ps();
      for (int r = 0; r < nrows; ++r) {
        const float* src = in[r] + inOffset;
        const float* wp = wt[r] + cb * steps.w;
        for (int t = 0; t < taps; ++t, src += kLanes, wp += wstep) {
          opaque(src);
          __m256 wv[V];
#pragma GCC unroll 2
          for (int v = 0; v < V; ++v) wv[v] = _mm256_loadu_ps(wp + 8 * v);
#pragma GCC unroll 8
          for (int j = 0; j < NP; ++j)
#pragma GCC unroll 2
            for (int v = 0; v < V; ++v)
              acc[j][v] = _mm256_fmadd_ps(_mm256_loadu_ps(src + j * IS * kLanes + 8 * v), wv[v], acc[j][v]);
        }
      }
      float* o = out + cb * steps.out + b * NP * ostep;
#pragma GCC unroll 8
      for (int j = 0; j < NP; ++j, o += ostep) {
        if constexpr (V == 2) {
          _mm256_storeu_ps(o, acc[j][0]);
          if constexpr (M) _mm256_maskstore_ps(o + 8, mask, acc[j][1]);
          else _mm256_storeu_ps(o + 8, acc[j][1]);
        } else {
          if constexpr (M) _mm256_maskstore_ps(o, mask, acc[j][0]);
          else _mm256_storeu_ps(o, acc[j][0]);
        }
      }
    }
  }
}

// Weight gradient of `rows` output rows, for `ngroups` groups of R kernel rows starting at kh0 and
// `nunits` units of 8 * V channels (V = 2: whole channel blocks; V = 1: half blocks):
//   dst[cb][kh][t][c] += sum_i sum_ow x[i][kh][(ow * IS + t) * 16 + c] * gy[i][ow * C + c]
// where x[i][kh] = xr[i * KH + kh] is the padded input row under kernel row kh for output row i
// (null: all padding; skipped, or read from `zero` when it shares a group with real rows) and
// gy[i] = gyr[i]. Per unit, the groups run back to back, so the unit's slice of gy is read from
// memory once and then from cache. Accumulating all rows in registers before touching dst matters
// for small maps (4x4). `steps` are per channel block (x: `in`, dst: `w`). With M the last vector
// of gy is loaded under a mask of its first `lanes` lanes (zeros beyond).
template <int V, bool M, int R, int T, int IS>
CREAM_AVX2 void wgradRows(const float* const* xr, int64_t KH, const float* zero, const float* const* gyr, int rows,
                          int64_t C, int64_t Wo, float* dst, int64_t kh0, int64_t ngroups, int64_t nunits,
                          const BlockSteps& steps, int lanes) {
  const __m256i mask = laneMask(lanes);
  for (int64_t u = 0; u < nunits; ++u) {
    // V = 1 walks half blocks: unit u is channel block u / 2, lanes 8 * (u % 2).
    const int64_t cb = V == 2 ? u : u >> 1, half = V == 2 ? 0 : (u & 1) * 8;
    const int64_t xOffset = cb * steps.in + half;
    for (int64_t grp = 0; grp < ngroups; ++grp) {
      const int64_t kh = kh0 + grp * R;
      __m256 acc[R][T][V];
#pragma GCC unroll 3
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 7
        for (int t = 0; t < T; ++t)
#pragma GCC unroll 2
          for (int v = 0; v < V; ++v) acc[r][t][v] = _mm256_setzero_ps();
      for (int i = 0; i < rows; ++i) {
        const float* xp[R];
        bool any = false;
#pragma GCC unroll 3
        for (int r = 0; r < R; ++r) {
          const float* p = xr[i * KH + kh + r];
          any = any || p;
          xp[r] = (p ? p : zero) + xOffset;
        }
        if (!any) continue;
        const float* g = gyr[i] + u * 8 * V;
        for (int64_t ow = 0; ow < Wo; ++ow, g += C) {
#pragma GCC unroll 3
          for (int r = 0; r < R; ++r) opaque(xp[r]);
          // gy is read with a stride of C floats, which the hardware prefetcher does not follow.
          _mm_prefetch(reinterpret_cast<const char*>(g + 8 * C), _MM_HINT_T0);
          __m256 gv[V];
          if constexpr (V == 2) {
            gv[0] = _mm256_loadu_ps(g);
            gv[1] = M ? _mm256_maskload_ps(g + 8, mask) : _mm256_loadu_ps(g + 8);
          } else {
            gv[0] = M ? _mm256_maskload_ps(g, mask) : _mm256_loadu_ps(g);
          }
#pragma GCC unroll 3
          for (int r = 0; r < R; ++r) {
#pragma GCC unroll 7
            for (int t = 0; t < T; ++t)
#pragma GCC unroll 2
              for (int v = 0; v < V; ++v)
                acc[r][t][v] = _mm256_fmadd_ps(_mm256_loadu_ps(xp[r] + t * kLanes + 8 * v), gv[v], acc[r][t][v]);
            xp[r] += IS * kLanes;
          }
        }
      }
      float* d = dst + cb * steps.w + half + kh * T * kLanes;
#pragma GCC unroll 3
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 7
        for (int t = 0; t < T; ++t)
#pragma GCC unroll 2
          for (int v = 0; v < V; ++v) {
            float* e = d + (r * T + t) * kLanes + 8 * v;
            _mm256_storeu_ps(e, _mm256_add_ps(_mm256_loadu_ps(e), acc[r][t][v]));
          }
    }
  }
}

// ---- dispatch tables ---------------------------------------------------------------------------

using CorrFn = void (*)(const float* const*, const float* const*, int, int, int64_t, float*, int64_t, int64_t, int64_t,
                        const BlockSteps&, int);
using WgradFn = void (*)(const float* const*, int64_t, const float*, const float* const*, int, int64_t, int64_t, float*,
                         int64_t, int64_t, int64_t, const BlockSteps&, int);

// Index: ((IS - 1) * 2 + M) * 2 + (V - 1)) * 7 + (NP - 1)
template <size_t I>
constexpr CorrFn corrAt() {
  return &corr<I / 7 % 2 + 1, (I / 14 % 2) != 0, I % 7 + 1, I / 28 + 1>;
}
template <size_t... I>
constexpr std::array<CorrFn, sizeof...(I)> corrTable(std::index_sequence<I...>) {
  return {corrAt<I>()...};
}
inline const auto kCorr = corrTable(std::make_index_sequence<56>());

inline CorrFn pickCorr(int V, bool M, int NP, int IS) {
  return kCorr[(((IS - 1) * 2 + M) * 2 + (V - 1)) * 7 + (NP - 1)];
}

// Index: ((((IS - 1) * 2 + M) * 2 + (V - 1)) * 3 + (R - 1)) * 7 + (T - 1). Several kernel rows at once
// only for narrow kernels with one vector (accumulators R * T * V must fit in 16 registers).
template <size_t I>
constexpr WgradFn wgradAt() {
  constexpr int T = I % 7 + 1, R = I / 7 % 3 + 1, V = I / 21 % 2 + 1, IS = I / 84 + 1;
  constexpr bool M = I / 42 % 2 != 0;
  if constexpr (R == 1 || (V == 1 && T <= 3)) return &wgradRows<V, M, R, T, IS>;
  else return nullptr;
}
template <size_t... I>
constexpr std::array<WgradFn, sizeof...(I)> wgradTable(std::index_sequence<I...>) {
  return {wgradAt<I>()...};
}
inline const auto kWgrad = wgradTable(std::make_index_sequence<168>());

inline WgradFn pickWgrad(int V, bool M, int R, int T, int IS) {
  return kWgrad[((((IS - 1) * 2 + M) * 2 + (V - 1)) * 3 + (R - 1)) * 7 + (T - 1)];
}

// How a block of `rem` (1..16) real channels is covered: vectors, whether the last one is masked,
// and that mask's lane count.
struct ChannelBlock {
  int V;
  bool M;
  int lanes;
};
inline ChannelBlock channelBlock(int64_t rem) {
  if (rem >= 16) return {2, false, 8};
  if (rem > 8) return {2, true, static_cast<int>(rem - 8)};
  if (rem == 8) return {1, false, 8};
  return {1, true, static_cast<int>(rem)};
}

// Splits n output pixels into the fewest blocks of at most kMaxPixels, sized as evenly as possible
// (10 -> 5 + 5 rather than 7 + 3: small blocks leave FMA latency exposed).
struct PixelBlocks {
  int64_t count, base, extra;  // the first `extra` blocks hold base + 1 pixels, the others base
};
inline PixelBlocks pixelBlocks(int64_t n) {
  const int64_t count = (n + kMaxPixels - 1) / kMaxPixels;
  return {count, n / count, n % count};
}

// A whole row: `n` output pixels (pixel j at out + j * ostep, reading from in[r] + j * IS * 16) in
// all channel blocks, with at most four kernel calls (two block sizes; full and tail channels).
// `inStep` / `wStep`: floats from one channel block to the next in the inputs and the weights.
CREAM_AVX2 inline void corrRow(const float* const* in, const float* const* wt, int nr, int64_t taps, int64_t wstep,
                               int64_t IS, float* out, int64_t ostep, int64_t n, int64_t C, int64_t inStep,
                               int64_t wStep) {
  const PixelBlocks pb = pixelBlocks(n);
  const int64_t full = C / kLanes, rem = C % kLanes;
  const BlockSteps steps{inStep, wStep, kLanes};
  const float* inB[kMaxTaps];
  const float* inT[kMaxTaps];
  const float* wtT[kMaxTaps];
  for (int r = 0; r < nr; ++r) wtT[r] = wt[r] + full * wStep;
  int64_t j0 = 0;
  for (int group = 0; group < 2; ++group) {
    const int64_t np = group == 0 ? pb.base + 1 : pb.base;
    const int64_t nblocks = group == 0 ? pb.extra : pb.count - pb.extra;
    if (nblocks == 0) continue;
    for (int r = 0; r < nr; ++r) inB[r] = in[r] + j0 * IS * kLanes;
    if (full > 0) {
      pickCorr(2, false, static_cast<int>(np), static_cast<int>(IS))(inB, wt, nr, static_cast<int>(taps), wstep,
                                                                     out + j0 * ostep, ostep, nblocks, full, steps, 8);
    }
    if (rem > 0) {
      const ChannelBlock ch = channelBlock(rem);
      for (int r = 0; r < nr; ++r) inT[r] = inB[r] + full * inStep;
      pickCorr(ch.V, ch.M, static_cast<int>(np), static_cast<int>(IS))(
          inT, wtT, nr, static_cast<int>(taps), wstep, out + j0 * ostep + full * kLanes, ostep, nblocks, 1, steps,
          ch.lanes);
    }
    j0 += np * nblocks;
  }
}

}  // namespace cream::dw::avx2
