// Hand-written AVX2+FMA depthwise convolution: forward, gradient w.r.t. input, gradient w.r.t.
// weights, for kernels up to 7x7 and strides 1 and 2 (oneDNN 2.6 is slow on 5x5/7x7 backward).
//
// Layout trick: each input row a thread needs is copied once into a small per-thread ring of
// zero-padded rows in channel-blocked layout [C/16][W + pads][16]. The borders then need no
// branches, every load is a fixed offset from one pointer, and the channel tail is zero-filled.
// Weights are packed the same way, [C/16][KH][KW][16].
//
// Micro-kernels (16 channels = two vectors per pixel):
//  - `corr`: up to 7 output pixels x 16 channels accumulated in 14 registers over the rows and taps
//    of a 1-D correlation. The forward pass is a correlation of padded input rows with the weights;
//    the input gradient, computed directly without atomics, is a correlation of padded gradient rows
//    with the flipped weights, done separately for each residue class of the input column modulo
//    the stride (each class sees its own subset of taps).
//  - `wgradRow`: the weight gradient of one output row, the taps of up to 3 kernel rows held in
//    registers while the row's output pixels stream by; per-thread partial sums are reduced at
//    the end.
// Rows of the output are split into contiguous chunks handed to threads dynamically.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "depthwise.h"

#define CREAM_AVX2 __attribute__((target("avx2,fma")))

namespace cream::dw {

namespace {

constexpr int kLanes = 16;     // channels per block
constexpr int kMaxTaps = 7;    // widest kernel the vector path handles
constexpr int kMaxPixels = 7;  // output pixels per register block (2 x 7 accumulators + 2 weights)

Scratch rings, partials, packed;

// ---- micro-kernels -----------------------------------------------------------------------------

// Hides a pointer's provenance from the optimiser. Consecutive taps read overlapping input, and
// without this GCC's predictive commoning carries the loaded vectors across loop iterations,
// which needs more than 16 registers and spills the accumulators.
inline void opaque(const float*& p) { asm("" : "+r"(p)); }

// A mask selecting the first `lanes` of 8 floats.
CREAM_AVX2 __m256i laneMask(int lanes) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// out[j * ostep + c] = sum_r sum_t in[r][(j * IS + t) * 16 + c] * wt[r][t * wstep + c] for j < NP and
// 8 * V channels; with M the last vector is stored under a mask of its first `lanes` lanes.
template <int V, bool M, int NP, int IS>
CREAM_AVX2 void corr(const float* const* in, const float* const* wt, int nrows, int taps, int64_t wstep, float* out,
                     int64_t ostep, int lanes) {
  const __m256i mask = laneMask(lanes);
  __m256 acc[NP][V];
#pragma GCC unroll 8
  for (int j = 0; j < NP; ++j)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[j][v] = _mm256_setzero_ps();
  for (int r = 0; r < nrows; ++r) {
    const float* src = in[r];
    const float* wp = wt[r];
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
#pragma GCC unroll 8
  for (int j = 0; j < NP; ++j) {
    float* o = out + j * ostep;
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

// dst[r][t * 16 + c] += sum_ow x[r][(ow * IS + t) * 16 + c] * gy[ow * C + c] for R kernel rows, T
// taps and 8 * V channels; with M the last vector of gy is loaded under a mask of its first `lanes`
// lanes (zeros beyond).
template <int V, bool M, int R, int T, int IS>
CREAM_AVX2 void wgradRow(const float* const* xin, const float* gy, int64_t C, int64_t Wo, float* const* dst,
                         int lanes) {
  const __m256i mask = laneMask(lanes);
  __m256 acc[R][T][V];
  const float* xr[R];
#pragma GCC unroll 3
  for (int r = 0; r < R; ++r) {
    xr[r] = xin[r];
#pragma GCC unroll 7
    for (int t = 0; t < T; ++t)
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[r][t][v] = _mm256_setzero_ps();
  }
  for (int64_t ow = 0; ow < Wo; ++ow, gy += C) {
#pragma GCC unroll 3
    for (int r = 0; r < R; ++r) opaque(xr[r]);
    __m256 gv[V];
    if constexpr (V == 2) {
      gv[0] = _mm256_loadu_ps(gy);
      gv[1] = M ? _mm256_maskload_ps(gy + 8, mask) : _mm256_loadu_ps(gy + 8);
    } else {
      gv[0] = M ? _mm256_maskload_ps(gy, mask) : _mm256_loadu_ps(gy);
    }
#pragma GCC unroll 3
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 7
      for (int t = 0; t < T; ++t)
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v)
          acc[r][t][v] = _mm256_fmadd_ps(_mm256_loadu_ps(xr[r] + t * kLanes + 8 * v), gv[v], acc[r][t][v]);
      xr[r] += IS * kLanes;
    }
  }
#pragma GCC unroll 3
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 7
    for (int t = 0; t < T; ++t)
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) {
        float* d = dst[r] + t * kLanes + 8 * v;
        _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), acc[r][t][v]));
      }
}

// ---- dispatch tables ---------------------------------------------------------------------------

using CorrFn = void (*)(const float* const*, const float* const*, int, int, int64_t, float*, int64_t, int);
using WgradFn = void (*)(const float* const*, const float*, int64_t, int64_t, float* const*, int);

// Index: ((IS - 1) * 2 + M) * 2 + (V - 1)) * 7 + (NP - 1)
template <size_t I>
constexpr CorrFn corrAt() {
  return &corr<I / 7 % 2 + 1, (I / 14 % 2) != 0, I % 7 + 1, I / 28 + 1>;
}
template <size_t... I>
constexpr std::array<CorrFn, sizeof...(I)> corrTable(std::index_sequence<I...>) {
  return {corrAt<I>()...};
}
const auto kCorr = corrTable(std::make_index_sequence<56>());

CorrFn pickCorr(int V, bool M, int NP, int IS) { return kCorr[(((IS - 1) * 2 + M) * 2 + (V - 1)) * 7 + (NP - 1)]; }

// Index: ((((IS - 1) * 2 + M) * 2 + (V - 1)) * 3 + (R - 1)) * 7 + (T - 1). Several kernel rows at once
// only for narrow kernels with one vector (accumulators R * T * V must fit in 16 registers).
template <size_t I>
constexpr WgradFn wgradAt() {
  constexpr int T = I % 7 + 1, R = I / 7 % 3 + 1, V = I / 21 % 2 + 1, IS = I / 84 + 1;
  constexpr bool M = I / 42 % 2 != 0;
  if constexpr (R == 1 || (V == 1 && T <= 3)) return &wgradRow<V, M, R, T, IS>;
  else return nullptr;
}
template <size_t... I>
constexpr std::array<WgradFn, sizeof...(I)> wgradTable(std::index_sequence<I...>) {
  return {wgradAt<I>()...};
}
const auto kWgrad = wgradTable(std::make_index_sequence<168>());

WgradFn pickWgrad(int V, bool M, int R, int T, int IS) {
  return kWgrad[((((IS - 1) * 2 + M) * 2 + (V - 1)) * 3 + (R - 1)) * 7 + (T - 1)];
}

// How a block of `rem` (1..16) real channels is covered: vectors, whether the last one is masked,
// and that mask's lane count.
struct ChannelBlock {
  int V;
  bool M;
  int lanes;
};
ChannelBlock channelBlock(int64_t rem) {
  if (rem >= 16) return {2, false, 8};
  if (rem > 8) return {2, true, static_cast<int>(rem - 8)};
  if (rem == 8) return {1, false, 8};
  return {1, true, static_cast<int>(rem)};
}

// Splits n output pixels into the fewest blocks of at most kMaxPixels, sized as evenly as possible
// (10 -> 5 + 5 rather than 7 + 3: small blocks leave FMA latency exposed).
struct PixelBlocks {
  int64_t count, base, extra;  // the first `extra` blocks hold base + 1 pixels
  int64_t size(int64_t b) const { return base + (b < extra ? 1 : 0); }
};
PixelBlocks pixelBlocks(int64_t n) {
  const int64_t count = (n + kMaxPixels - 1) / kMaxPixels;
  return {count, n / count, n % count};
}

// ---- padded row ring ---------------------------------------------------------------------------

// A thread's copies of the source rows it currently needs, zero-padded, channel-blocked:
// slot layout [nb][width][16], the row's pixel 0 at column `padLeft`. A row with tag k lives in
// slot k % slots; the rows one output row needs have consecutive tags, so they never collide.
struct Ring {
  float* base;
  int64_t slotFloats, width, padLeft, nb, C, srcWidth;
  int slots;
  int64_t tags[kMaxTaps];
};

Ring makeRing(float* base, int slots, int64_t nb, int64_t width, int64_t padLeft, int64_t C, int64_t srcWidth) {
  Ring r{base, nb * width * kLanes, width, padLeft, nb, C, srcWidth, slots, {}};
  std::memset(base, 0, sizeof(float) * r.slotFloats * slots);
  std::fill(r.tags, r.tags + kMaxTaps, int64_t{-1});
  return r;
}

// Copies an NHWC row (srcWidth pixels x C channels) into a slot; padding and tail lanes stay zero.
CREAM_AVX2 void fillSlot(const Ring& ring, float* slot, const float* src) {
  const int64_t C = ring.C, full = C / kLanes, rem = C % kLanes, blockStride = ring.width * kLanes;
  const __m256i m0 = laneMask(static_cast<int>(std::min<int64_t>(rem, 8)));
  const __m256i m1 = laneMask(static_cast<int>(std::max<int64_t>(rem - 8, 0)));
  float* dst = slot + ring.padLeft * kLanes;
  for (int64_t p = 0; p < ring.srcWidth; ++p, src += C, dst += kLanes) {
    float* d = dst;
    for (int64_t cb = 0; cb < full; ++cb, d += blockStride) {
      _mm256_storeu_ps(d, _mm256_loadu_ps(src + cb * kLanes));
      _mm256_storeu_ps(d + 8, _mm256_loadu_ps(src + cb * kLanes + 8));
    }
    if (rem) {
      const float* s = src + full * kLanes;
      _mm256_storeu_ps(d, _mm256_maskload_ps(s, m0));
      _mm256_storeu_ps(d + 8, _mm256_maskload_ps(s + 8, m1));
    }
  }
}

// The padded copy of source row `tag`, read from `src` if the slot does not hold it yet.
CREAM_AVX2 const float* ringRow(Ring& ring, int64_t tag, const float* src) {
  const int slot = static_cast<int>(tag % ring.slots);
  float* p = ring.base + slot * ring.slotFloats;
  if (ring.tags[slot] != tag) {
    fillSlot(ring, p, src);
    ring.tags[slot] = tag;
  }
  return p;
}

// [KH][KW][C] -> [nb][KH][KW][16], zero beyond C.
const float* packWeights(const Geometry& g, const float* w) {
  const int64_t nb = (g.C + kLanes - 1) / kLanes, taps = g.KH * g.KW;
  packed.prepare(1, nb * taps * kLanes);
  float* out = packed.get(0);
  for (int64_t cb = 0; cb < nb; ++cb)
    for (int64_t k = 0; k < taps; ++k)
      for (int64_t l = 0; l < kLanes; ++l) {
        const int64_t c = cb * kLanes + l;
        out[(cb * taps + k) * kLanes + l] = c < g.C ? w[k * g.C + c] : 0.0f;
      }
  return out;
}

template <typename RowFn>
void forEachRowChunk(int64_t rows, int threads, RowFn&& rowFn) {
  const int64_t chunk = chunkRows(rows, threads), chunks = (rows + chunk - 1) / chunk;
#pragma omp for schedule(dynamic, 1)
  for (int64_t ck = 0; ck < chunks; ++ck) {
    const int64_t end = std::min(rows, (ck + 1) * chunk);
    for (int64_t row = ck * chunk; row < end; ++row) rowFn(row);
  }
}

// ---- forward -----------------------------------------------------------------------------------

CREAM_AVX2 void forwardRow(const Geometry& g, Ring& ring, const float* x, const float* wpack, float* y, int64_t row) {
  const int64_t n = row / g.Ho, oh = row % g.Ho, C = g.C, s = g.stride;
  float* yrow = y + row * g.Wo * C;
  const float* rows[kMaxTaps];
  int64_t khs[kMaxTaps];
  int nr = 0;
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    const int64_t ih = oh * s - g.padH + kh;
    if (ih < 0 || ih >= g.H) continue;
    rows[nr] = ringRow(ring, n * g.H + ih, x + (n * g.H + ih) * g.W * C);
    khs[nr++] = kh;
  }
  if (nr == 0) {
    std::fill(yrow, yrow + g.Wo * C, 0.0f);
    return;
  }
  const PixelBlocks pb = pixelBlocks(g.Wo);
  const float* in[kMaxTaps];
  const float* wt[kMaxTaps];
  for (int64_t cb = 0; cb < ring.nb; ++cb) {
    const ChannelBlock ch = channelBlock(C - cb * kLanes);
    for (int r = 0; r < nr; ++r) wt[r] = wpack + (cb * g.KH + khs[r]) * g.KW * kLanes;
    int64_t j0 = 0;
    for (int64_t b = 0; b < pb.count; ++b) {
      const int64_t np = pb.size(b);
      for (int r = 0; r < nr; ++r) in[r] = rows[r] + (cb * ring.width + j0 * s) * kLanes;
      pickCorr(ch.V, ch.M, static_cast<int>(np), static_cast<int>(s))(in, wt, nr, static_cast<int>(g.KW), kLanes,
                                                                        yrow + j0 * C + cb * kLanes, C, ch.lanes);
      j0 += np;
    }
  }
}

// ---- gradient w.r.t. input ---------------------------------------------------------------------

// Input columns iw = r + s * j (one residue class r) receive gradient from taps kw = kw0 + s * m,
// m < M, at output columns ow = j + b - m.
struct ColumnClass {
  int64_t kw0, M, b, J;
};

CREAM_AVX2 void backwardInputRow(const Geometry& g, Ring& ring, const float* gy, const float* wpack, float* gx,
                                 const ColumnClass* classes, int64_t row) {
  const int64_t n = row / g.H, ih = row % g.H, C = g.C, s = g.stride;
  float* gxrow = gx + row * g.W * C;
  const float* rows[kMaxTaps];
  int64_t khs[kMaxTaps];
  int nr = 0;
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    const int64_t th = ih + g.padH - kh;
    if (th < 0 || th % s != 0 || th / s >= g.Ho) continue;
    const int64_t oh = th / s;
    rows[nr] = ringRow(ring, n * g.Ho + oh, gy + (n * g.Ho + oh) * g.Wo * C);
    khs[nr++] = kh;
  }
  const float* in[kMaxTaps];
  const float* wt[kMaxTaps];
  for (int64_t r = 0; r < s; ++r) {
    const ColumnClass& cc = classes[r];
    if (cc.J == 0) continue;
    if (nr == 0 || cc.M == 0) {
      for (int64_t j = 0; j < cc.J; ++j) std::fill_n(gxrow + (r + s * j) * C, C, 0.0f);
      continue;
    }
    const PixelBlocks pb = pixelBlocks(cc.J);
    // Tap t = M - 1 - m reads padded column j + (b - (M - 1)) + padLeft + t: the flipped kernel.
    const int64_t offset = cc.b - (cc.M - 1) + ring.padLeft;
    for (int64_t cb = 0; cb < ring.nb; ++cb) {
      const ChannelBlock ch = channelBlock(C - cb * kLanes);
      for (int i = 0; i < nr; ++i) wt[i] = wpack + ((cb * g.KH + khs[i]) * g.KW + cc.kw0 + s * (cc.M - 1)) * kLanes;
      int64_t j0 = 0;
      for (int64_t b = 0; b < pb.count; ++b) {
        const int64_t np = pb.size(b);
        for (int i = 0; i < nr; ++i) in[i] = rows[i] + (cb * ring.width + offset + j0) * kLanes;
        pickCorr(ch.V, ch.M, static_cast<int>(np), 1)(in, wt, nr, static_cast<int>(cc.M), -s * kLanes,
                                                      gxrow + (r + s * j0) * C + cb * kLanes, s * C, ch.lanes);
        j0 += np;
      }
    }
  }
}

// ---- gradient w.r.t. weights -------------------------------------------------------------------

CREAM_AVX2 void backwardWeightRow(const Geometry& g, Ring& ring, const float* x, const float* gy, float* part,
                                  int64_t row) {
  const int64_t n = row / g.Ho, oh = row % g.Ho, C = g.C, s = g.stride;
  const float* gyrow = gy + row * g.Wo * C;
  const float* rows[kMaxTaps];
  int64_t khs[kMaxTaps];
  int nr = 0;
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    const int64_t ih = oh * s - g.padH + kh;
    if (ih < 0 || ih >= g.H) continue;
    rows[nr] = ringRow(ring, n * g.H + ih, x + (n * g.H + ih) * g.W * C);
    khs[nr++] = kh;
  }
  const int T = static_cast<int>(g.KW), IS = static_cast<int>(s);
  const float* xin[3];
  float* dst[3];
  for (int64_t cb = 0; cb < ring.nb; ++cb) {
    const int64_t rem = std::min<int64_t>(C - cb * kLanes, kLanes);
    const float* xblock = nullptr;
    if (T <= 3) {
      // Narrow kernels: 8 channels of up to 3 kernel rows at a time (9 accumulators).
      for (int64_t half = 0; half < 2 && rem > half * 8; ++half) {
        const int lanes = static_cast<int>(std::min<int64_t>(rem - half * 8, 8));
        for (int r0 = 0; r0 < nr; r0 += 3) {
          const int R = std::min(3, nr - r0);
          for (int i = 0; i < R; ++i) {
            xin[i] = rows[r0 + i] + cb * ring.width * kLanes + half * 8;
            dst[i] = part + (cb * g.KH + khs[r0 + i]) * g.KW * kLanes + half * 8;
          }
          pickWgrad(1, lanes < 8, R, T, IS)(xin, gyrow + cb * kLanes + half * 8, C, g.Wo, dst, lanes);
        }
      }
    } else {
      const ChannelBlock ch = channelBlock(rem);
      const WgradFn fn = pickWgrad(ch.V, ch.M, 1, T, IS);
      for (int i = 0; i < nr; ++i) {
        xblock = rows[i] + cb * ring.width * kLanes;
        float* d = part + (cb * g.KH + khs[i]) * g.KW * kLanes;
        fn(&xblock, gyrow + cb * kLanes, C, g.Wo, &d, ch.lanes);
      }
    }
  }
}

}  // namespace

bool avx2Handles(const Geometry& g) {
  return (g.stride == 1 || g.stride == 2) && g.KH <= kMaxTaps && g.KW <= kMaxTaps;
}

void forwardAvx2(const Geometry& g, const float* x, const float* w, float* y) {
  const int64_t nb = (g.C + kLanes - 1) / kLanes;
  // Every tap read stays inside the padded width: (Wo - 1) * s + KW <= W + 2 * padW.
  const int64_t width = g.W + 2 * g.padW;
  const float* wpack = packWeights(g, w);
  const int threads = omp_get_max_threads();
  rings.prepare(threads, g.KH * nb * width * kLanes);
#pragma omp parallel num_threads(threads)
  {
    Ring ring = makeRing(rings.get(omp_get_thread_num()), static_cast<int>(g.KH), nb, width, g.padW, g.C, g.W);
    forEachRowChunk(g.N * g.Ho, threads, [&](int64_t row) { forwardRow(g, ring, x, wpack, y, row); });
  }
}

void backwardInputAvx2(const Geometry& g, const float* gy, const float* w, float* gx) {
  const int64_t nb = (g.C + kLanes - 1) / kLanes, s = g.stride;
  ColumnClass classes[2];
  int64_t padLeft = 0, padRight = 0;
  for (int64_t r = 0; r < s; ++r) {
    ColumnClass& cc = classes[r];
    cc.kw0 = (r + g.padW) % s;
    cc.M = cc.kw0 < g.KW ? (g.KW - cc.kw0 + s - 1) / s : 0;
    cc.b = (r + g.padW - cc.kw0) / s;
    cc.J = r < g.W ? (g.W - r + s - 1) / s : 0;
    if (cc.M > 0 && cc.J > 0) {
      padLeft = std::max(padLeft, cc.M - 1 - cc.b);
      padRight = std::max(padRight, cc.J - 1 + cc.b - (g.Wo - 1));
    }
  }
  const int64_t width = padLeft + g.Wo + padRight;
  const float* wpack = packWeights(g, w);
  const int threads = omp_get_max_threads();
  rings.prepare(threads, g.KH * nb * width * kLanes);
#pragma omp parallel num_threads(threads)
  {
    Ring ring = makeRing(rings.get(omp_get_thread_num()), static_cast<int>(g.KH), nb, width, padLeft, g.C, g.Wo);
    forEachRowChunk(g.N * g.H, threads, [&](int64_t row) { backwardInputRow(g, ring, gy, wpack, gx, classes, row); });
  }
}

void backwardWeightAvx2(const Geometry& g, const float* x, const float* gy, float* gw) {
  const int64_t nb = (g.C + kLanes - 1) / kLanes, width = g.W + 2 * g.padW;
  const int64_t partFloats = nb * g.KH * g.KW * kLanes;
  const int threads = omp_get_max_threads();
  rings.prepare(threads, g.KH * nb * width * kLanes);
  partials.prepare(threads, partFloats);
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num(), team = omp_get_num_threads();
    Ring ring = makeRing(rings.get(tid), static_cast<int>(g.KH), nb, width, g.padW, g.C, g.W);
    float* part = partials.get(tid);
    std::fill(part, part + partFloats, 0.0f);
    forEachRowChunk(g.N * g.Ho, threads, [&](int64_t row) { backwardWeightRow(g, ring, x, gy, part, row); });
    // `omp for` ends with a barrier: every partial is complete here.
    const int64_t taps = g.KH * g.KW;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < taps * g.C; ++i) {
      const int64_t k = i / g.C, c = i % g.C;
      const int64_t at = ((c / kLanes) * taps + k) * kLanes + c % kLanes;
      float sum = 0;
      for (int t = 0; t < team; ++t) sum += partials.get(t)[at];
      gw[i] = sum;
    }
  }
}

}  // namespace cream::dw
