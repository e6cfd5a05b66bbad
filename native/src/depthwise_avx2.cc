// Hand-written AVX2+FMA depthwise convolution: forward, gradient w.r.t. input, gradient w.r.t.
// weights and both gradients in one pass, for kernels up to 7x7 and strides 1 and 2 (oneDNN 2.6 is
// slow on 5x5/7x7 backward-weights). The register-blocked micro-kernels are in
// depthwise_avx2_kernels.h; this file moves the data and splits the work among threads.
//
// Layout: each source row a thread needs is copied once into a small per-thread ring of zero-padded
// rows in channel-blocked layout [C/16][W + pads][16]. The borders then need no branches, every
// load is a fixed offset from one pointer, and the channel tail is zero-filled. Weights are packed
// the same way, [C/16][KH][KW][16].
//
//  - Forward: per output row, a correlation of the padded input rows with the weights (`corr`:
//    up to 7 output pixels x 16 channels in 14 accumulators).
//  - Input gradient, computed directly (a transposed convolution, no atomics): per input row, a
//    correlation of padded output-gradient rows with the flipped weights, separately for each
//    residue class of the input column modulo the stride (each class sees its own subset of taps).
//  - Weight gradient (`wgradRows`): the taps of one kernel row (three for 3-wide kernels) held in
//    registers while the output pixels of a group of rows stream by, into per-thread partial sums
//    reduced at the end.
// Output rows are split into contiguous chunks handed to threads dynamically; the fused backward
// hands out whole images.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "depthwise.h"
#include "depthwise_avx2_kernels.h"

namespace cream::dw {

namespace {

using namespace avx2;

// The calling thread's buffers; the threads of a parallel region share the caller's through a
// reference taken before the region.
struct Workspace {
  Scratch rings, gradRings, partials, packed, imageGrads, sourceRows;
};
Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

// Requests the cache lines of n floats. The kernels walk rows channel block by channel block, a
// strided pattern the hardware prefetcher does not anticipate: output rows are fetched before they
// are written, and the next rows of the output gradient while the current ones are in use.
inline void prefetchRange(const float* p, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) __builtin_prefetch(p + i, 0, 3);
}

// ---- padded row ring ---------------------------------------------------------------------------

// A thread's copies of the source rows it currently needs, zero-padded, channel-blocked:
// slot layout [nb][width][16], the row's pixel 0 at column `padLeft`. A row with tag k lives in
// slot k % slots; the rows one step needs have consecutive tags, so they never collide. One more
// slot after the others stays all zero (a row of padding).
struct Ring {
  float* base;
  int64_t slotFloats, width, padLeft, nb, C, srcWidth;
  int slots;
  int64_t tags[kMaxSlots];
  const float* zeroRow() const { return base + slots * slotFloats; }
};

int64_t ringFloats(int slots, int64_t nb, int64_t width) { return (slots + 1) * nb * width * kLanes; }

Ring makeRing(float* base, int slots, int64_t nb, int64_t width, int64_t padLeft, int64_t C, int64_t srcWidth) {
  Ring r{base, nb * width * kLanes, width, padLeft, nb, C, srcWidth, slots, {}};
  std::memset(base, 0, sizeof(float) * ringFloats(slots, nb, width));
  std::fill(r.tags, r.tags + kMaxSlots, int64_t{-1});
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

// The padded copy of source row `tag`, from the row get() returns if the slot does not hold it yet
// (get is only called then: a row may be made on demand).
template <typename Get>
CREAM_AVX2 const float* ringRowFrom(Ring& ring, int64_t tag, Get get) {
  const int slot = static_cast<int>(tag % ring.slots);
  float* p = ring.base + slot * ring.slotFloats;
  if (ring.tags[slot] != tag) {
    fillSlot(ring, p, get());
    ring.tags[slot] = tag;
  }
  return p;
}

// The same, read from `src`.
CREAM_AVX2 const float* ringRow(Ring& ring, int64_t tag, const float* src) {
  return ringRowFrom(ring, tag, [src] { return src; });
}

// Drops every row the ring holds.
void forgetRows(Ring& ring) { std::fill(ring.tags, ring.tags + kMaxSlots, int64_t{-1}); }

// Where the output-gradient rows are: row `first` of the gradient at `base`, the others after it.
struct GradRows {
  const float* base;
  int64_t first, rowFloats;
};

CREAM_AVX2 const float* ringRow(Ring& ring, int64_t tag, const GradRows& src) {
  return ringRowFrom(ring, tag, [&src, tag] { return src.base + (tag - src.first) * src.rowFloats; });
}

// [KH][KW][C] -> [nb][KH][KW][16], zero beyond C.
const float* packWeights(const Geometry& g, const float* w, Scratch& packed) {
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

// Contiguous chunks of [0, rows): chunk ck is [ck * size, min(rows, (ck + 1) * size)).
struct Chunks {
  int64_t size, count;
};
Chunks rowChunks(int64_t rows, int threads) {
  const int64_t size = chunkRows(rows, threads);
  return {size, (rows + size - 1) / size};
}

// Calls chunkFn(ck, begin, end) for each chunk, shared out among the team.
template <typename ChunkFn>
void forEachRowChunk(int64_t rows, const Chunks& chunks, ChunkFn&& chunkFn) {
#pragma omp for schedule(dynamic, 1)
  for (int64_t ck = 0; ck < chunks.count; ++ck) chunkFn(ck, ck * chunks.size, std::min(rows, (ck + 1) * chunks.size));
}

// ---- forward -----------------------------------------------------------------------------------


// Forward's input rows: read from x, or made by a RowSourceFn, which keeps in x the rows this chunk
// owns (each row is owned by the chunk holding output row min(Ho - 1, (ih + padH) / stride), which
// reads it) and writes the others to this thread's scratch row.
struct ForwardInput {
  const float* x;
  const RowSourceFn* make;
  float* scratch;
  int64_t ownBegin = 0, ownEnd = 0;  // the current chunk's output rows

  const float* row(const Geometry& g, int64_t tag) const {
    if (!make) return x + tag * g.W * g.C;
    const int64_t n = tag / g.H, ih = tag % g.H;
    const int64_t owner = n * g.Ho + std::min(g.Ho - 1, (ih + g.padH) / g.stride);
    const bool keep = owner >= ownBegin && owner < ownEnd;
    return (*make)(tag, keep, keep ? nullptr : scratch);
  }
};

CREAM_AVX2 void forwardRow(const Geometry& g, Ring& ring, const ForwardInput& in, const float* wpack, float* y,
                           int64_t row) {
  const int64_t n = row / g.Ho, oh = row % g.Ho, C = g.C, s = g.stride;
  float* yrow = y + row * g.Wo * C;
  const float* rows[kMaxTaps];
  int64_t khs[kMaxTaps];
  int nr = 0;
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    const int64_t ih = oh * s - g.padH + kh;
    if (ih < 0 || ih >= g.H) continue;
    const int64_t tag = n * g.H + ih;
    rows[nr] = ringRowFrom(ring, tag, [&] { return in.row(g, tag); });
    khs[nr++] = kh;
  }
  if (nr == 0) {
    std::fill(yrow, yrow + g.Wo * C, 0.0f);
    return;
  }
  const float* wt[kMaxTaps];
  for (int r = 0; r < nr; ++r) wt[r] = wpack + khs[r] * g.KW * kLanes;
  prefetchRange(yrow, g.Wo * C);
  corrRow(rows, wt, nr, g.KW, kLanes, s, yrow, C, g.Wo, C, ring.width * kLanes, g.KH * g.KW * kLanes);
}

// ---- gradient w.r.t. input ---------------------------------------------------------------------

// Input columns iw = r + s * j (one residue class r) receive gradient from taps kw = kw0 + s * m,
// m < M, at output columns ow = j + b - m.
struct ColumnClass {
  int64_t kw0, M, b, J;
};

CREAM_AVX2 void backwardInputRow(const Geometry& g, Ring& ring, const GradRows& gy, const float* wpack, float* gx,
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
    rows[nr] = ringRow(ring, n * g.Ho + oh, gy);
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
    // Tap t = M - 1 - m reads padded column j + (b - (M - 1)) + padLeft + t: the flipped kernel.
    const int64_t offset = cc.b - (cc.M - 1) + ring.padLeft;
    for (int i = 0; i < nr; ++i) {
      in[i] = rows[i] + offset * kLanes;
      wt[i] = wpack + (khs[i] * g.KW + cc.kw0 + s * (cc.M - 1)) * kLanes;
    }
    if (r == 0) prefetchRange(gxrow, g.W * C);
    corrRow(in, wt, nr, cc.M, -s * kLanes, 1, gxrow + r * C, s * C, cc.J, C, ring.width * kLanes,
            g.KH * g.KW * kLanes);
  }
}

// ---- gradient w.r.t. weights -------------------------------------------------------------------

// Output rows [row0, row0 + m) of one image: their weight gradient, added to `part`. gy points at
// the gradient of row row0.
CREAM_AVX2 void backwardWeightRows(const Geometry& g, Ring& ring, const float* x, const float* gy, float* part,
                                   int64_t row0, int m) {
  const int64_t n = row0 / g.Ho, oh0 = row0 % g.Ho, C = g.C, s = g.stride, KH = g.KH;
  // xr[i * KH + kh]: padded input row under kernel row kh for output row i (null: padding).
  const float* xr[kMaxGroup * kMaxTaps];
  const float* gyr[kMaxGroup];
  for (int i = 0; i < m; ++i) {
    gyr[i] = gy + i * g.Wo * C;
    for (int64_t kh = 0; kh < KH; ++kh) {
      const int64_t ih = (oh0 + i) * s - g.padH + kh;
      xr[i * KH + kh] = ih < 0 || ih >= g.H ? nullptr : ringRow(ring, n * g.H + ih, x + (n * g.H + ih) * g.W * C);
    }
  }
  const int T = static_cast<int>(g.KW), IS = static_cast<int>(s);
  const int64_t full = C / kLanes, rem = C % kLanes, xStep = ring.width * kLanes, dStep = KH * g.KW * kLanes;
  const BlockSteps steps{xStep, dStep, 0};
  const float* zero = ring.zeroRow();
  if (T <= 3) {
    // Narrow kernels: 3 kernel rows at a time (then the 1 or 2 left) over half blocks of 8 channels
    // (9 accumulators). Units: 2 per full block, then the tail's half blocks; a partial half is
    // masked and starts at `tailAt`.
    const int64_t plain = 2 * full + (rem >= 8 ? 1 : 0), tailLanes = rem % 8;
    const int64_t tailAt = (plain >> 1) * xStep + (plain & 1) * 8, tailAtW = (plain >> 1) * dStep + (plain & 1) * 8;
    const float* gyTail[kMaxGroup];
    for (int i = 0; i < m; ++i) gyTail[i] = gyr[i] + plain * 8;
    const float* xrTail[kMaxGroup * kMaxTaps];
    if (tailLanes > 0)
      for (int k = 0; k < m * KH; ++k) xrTail[k] = xr[k] ? xr[k] + tailAt : nullptr;
    const int64_t groups3 = KH / 3, left = KH % 3;
    auto run = [&](int R, int64_t kh0, int64_t ngroups) {
      pickWgrad(1, false, R, T, IS)(xr, KH, zero, gyr, m, C, g.Wo, part, kh0, ngroups, plain, steps, 8);
      if (tailLanes > 0) {
        pickWgrad(1, true, R, T, IS)(xrTail, KH, zero + tailAt, gyTail, m, C, g.Wo, part + tailAtW, kh0, ngroups, 1,
                                     steps, static_cast<int>(tailLanes));
      }
    };
    if (groups3 > 0) run(3, 0, groups3);
    if (left > 0) run(static_cast<int>(left), 3 * groups3, 1);
  } else {
    if (full > 0) pickWgrad(2, false, 1, T, IS)(xr, KH, zero, gyr, m, C, g.Wo, part, 0, KH, full, steps, 8);
    if (rem > 0) {
      const ChannelBlock ch = channelBlock(rem);
      const float* xrTail[kMaxGroup * kMaxTaps];
      const float* gyTail[kMaxGroup];
      for (int k = 0; k < m * KH; ++k) xrTail[k] = xr[k] ? xr[k] + full * xStep : nullptr;
      for (int i = 0; i < m; ++i) gyTail[i] = gyr[i] + full * kLanes;
      pickWgrad(ch.V, ch.M, 1, T, IS)(xrTail, KH, zero + full * xStep, gyTail, m, C, g.Wo, part + full * dStep, 0, KH,
                                      1, steps, ch.lanes);
    }
  }
}

// How many output rows the weight gradient sums in registers at once: enough for about 28 output
// pixels between flushes to the partial sums.
int weightGroupRows(const Geometry& g) {
  return static_cast<int>(std::clamp<int64_t>((28 + g.Wo - 1) / g.Wo, 1, std::min<int64_t>(g.Ho, kMaxGroup)));
}

}  // namespace

bool avx2Handles(const Geometry& g) {
  return (g.stride == 1 || g.stride == 2) && g.KH <= kMaxTaps && g.KW <= kMaxTaps;
}

int64_t forwardChunksAvx2(const Geometry& g) { return rowChunks(g.N * g.Ho, threadsFor(g)).count; }

void forwardAvx2(const Geometry& g, const float* x, const float* w, float* y, const RowsDoneFn* done,
                 const RowSourceFn* source) {
  Workspace& ws = workspace();
  Scratch& rings = ws.rings;
  const int64_t nb = (g.C + kLanes - 1) / kLanes;
  // Every tap read stays inside the padded width: (Wo - 1) * s + KW <= W + 2 * padW.
  const int64_t width = g.W + 2 * g.padW;
  const float* wpack = packWeights(g, w, ws.packed);
  const int threads = threadsFor(g);
  rings.prepare(threads, ringFloats(static_cast<int>(g.KH), nb, width));
  if (source) ws.sourceRows.prepare(threads, g.W * g.C);
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    Ring ring = makeRing(rings.get(tid), static_cast<int>(g.KH), nb, width, g.padW, g.C, g.W);
    ForwardInput in{x, source, source ? ws.sourceRows.get(tid) : nullptr};
    forEachRowChunk(g.N * g.Ho, rowChunks(g.N * g.Ho, threads), [&](int64_t ck, int64_t begin, int64_t end) {
      if (source) {
        // Rows held from another chunk were made without being kept: this chunk may own them.
        forgetRows(ring);
        in.ownBegin = begin;
        in.ownEnd = end;
      }
      // `done` gets runs of at least 64 pixels: per-call costs (a statistics pass flushes its
      // per-channel sums) outweighed the work on single 7-pixel rows.
      int64_t run = begin;
      for (int64_t row = begin; row < end; ++row) {
        forwardRow(g, ring, in, wpack, y, row);
        if (done && ((row + 1 - run) * g.Wo >= 64 || row + 1 == end)) {
          (*done)(ck, run, row + 1);
          run = row + 1;
        }
      }
    });
  }
}

namespace {

// Where the input gradient reads: one column class per residue modulo the stride, and the
// padding the gradient rows need so that every tap read is in range.
struct InputGradPlan {
  ColumnClass classes[2];
  int64_t padLeft = 0, width = 0;
};

InputGradPlan inputGradPlan(const Geometry& g) {
  InputGradPlan plan;
  const int64_t s = g.stride;
  int64_t padRight = 0;
  for (int64_t r = 0; r < s; ++r) {
    ColumnClass& cc = plan.classes[r];
    cc.kw0 = (r + g.padW) % s;
    cc.M = cc.kw0 < g.KW ? (g.KW - cc.kw0 + s - 1) / s : 0;
    cc.b = (r + g.padW - cc.kw0) / s;
    cc.J = r < g.W ? (g.W - r + s - 1) / s : 0;
    if (cc.M > 0 && cc.J > 0) {
      plan.padLeft = std::max(plan.padLeft, cc.M - 1 - cc.b);
      padRight = std::max(padRight, cc.J - 1 + cc.b - (g.Wo - 1));
    }
  }
  plan.width = plan.padLeft + g.Wo + padRight;
  return plan;
}

int64_t partialFloats(const Geometry& g) { return (g.C + kLanes - 1) / kLanes * g.KH * g.KW * kLanes; }

// Inside a parallel region, after all `count` partial sums are complete: gw = their sum, in a fixed
// order. Partials belong to chunks of work, not to threads, so the result does not depend on which
// thread took which chunk (training runs repeat bit for bit at a given thread count).
void reducePartials(const Geometry& g, const Scratch& partials, int64_t count, float* gw) {
  const int64_t taps = g.KH * g.KW;
#pragma omp for schedule(static)
  for (int64_t i = 0; i < taps * g.C; ++i) {
    const int64_t k = i / g.C, c = i % g.C;
    const int64_t at = ((c / kLanes) * taps + k) * kLanes + c % kLanes;
    float sum = 0;
    for (int64_t t = 0; t < count; ++t) sum += partials.get(static_cast<int>(t))[at];
    gw[i] = sum;
  }
}

// Weight-gradient rows of one chunk in groups of up to `group` rows, never across images (their
// input rows would not be consecutive, so they could collide in the ring).
void weightGradChunk(const Geometry& g, Ring& ring, const float* x, const float* gy, float* part, int group,
                     int64_t begin, int64_t end) {
  for (int64_t row = begin; row < end;) {
    const int64_t imageEnd = (row / g.Ho + 1) * g.Ho;
    const int m = static_cast<int>(std::min<int64_t>({group, end - row, imageEnd - row}));
    prefetchRange(gy + (row + m) * g.Wo * g.C, std::min<int64_t>(group, end - row - m) * g.Wo * g.C);
    backwardWeightRows(g, ring, x, gy + row * g.Wo * g.C, part, row, m);
    row += m;
  }
}

}  // namespace

void backwardInputAvx2(const Geometry& g, const float* gy, const float* w, float* gx) {
  Workspace& ws = workspace();
  Scratch& rings = ws.rings;
  const int64_t nb = (g.C + kLanes - 1) / kLanes;
  const InputGradPlan plan = inputGradPlan(g);
  const float* wpack = packWeights(g, w, ws.packed);
  const int threads = threadsFor(g);
  rings.prepare(threads, ringFloats(static_cast<int>(g.KH), nb, plan.width));
#pragma omp parallel num_threads(threads)
  {
    Ring ring = makeRing(rings.get(omp_get_thread_num()), static_cast<int>(g.KH), nb, plan.width, plan.padLeft, g.C,
                         g.Wo);
    forEachRowChunk(g.N * g.H, rowChunks(g.N * g.H, threads), [&](int64_t, int64_t begin, int64_t end) {
      const GradRows rows{gy, 0, g.Wo * g.C};
      for (int64_t row = begin; row < end; ++row) backwardInputRow(g, ring, rows, wpack, gx, plan.classes, row);
    });
  }
}

void backwardWeightAvx2(const Geometry& g, const float* x, const float* gy, float* gw) {
  Workspace& ws = workspace();
  Scratch &rings = ws.rings, &partials = ws.partials;
  const int64_t nb = (g.C + kLanes - 1) / kLanes, width = g.W + 2 * g.padW, partFloats = partialFloats(g);
  const int threads = threadsFor(g);
  const int group = weightGroupRows(g), slots = static_cast<int>((group - 1) * g.stride + g.KH);
  const Chunks chunks = rowChunks(g.N * g.Ho, threads);
  rings.prepare(threads, ringFloats(slots, nb, width));
  partials.prepare(static_cast<int>(chunks.count), partFloats);
#pragma omp parallel num_threads(threads)
  {
    Ring ring = makeRing(rings.get(omp_get_thread_num()), slots, nb, width, g.padW, g.C, g.W);
    forEachRowChunk(g.N * g.Ho, chunks, [&](int64_t ck, int64_t begin, int64_t end) {
      float* part = partials.get(static_cast<int>(ck));
      std::fill(part, part + partFloats, 0.0f);
      weightGradChunk(g, ring, x, gy, part, group, begin, end);
    });
    // `omp for` ends with a barrier: every partial is complete here.
    reducePartials(g, partials, chunks.count, gw);
  }
}

int64_t backwardChunksAvx2(const Geometry& g) {
  const int threads = threadsFor(g);
  return g.N < threads ? 1 : rowChunks(g.N, threads).count;
}

// Both gradients in one pass over each image: the weight gradient of a group of output rows, then
// the input-gradient rows that need no later gradient rows, so each gradient row is read from
// memory once and used by both while it is in cache.
//
// With gradRows, each group's gradient rows are computed just before use (gy is not read), into a
// per-thread buffer for the image: input row ih needs gradient rows up to (ih + padH) / stride, which
// are in the current group or earlier ones of the same image.
//
// inputDone sees each image's input-gradient rows in runs, right after they are written.
void backwardAvx2(const Geometry& g, const float* x, const float* gy, const float* w, float* gx, float* gw,
                  const GradRowsFn* gradRows, const InputRowsDoneFn* inputDone) {
  const int threads = threadsFor(g);
  std::vector<float> whole;
  if (gradRows && g.N < threads) gy = wholeGrad(g, *gradRows, whole);  // the row-parallel passes below
  if (g.N < threads) {
    // Whole images per thread would leave threads idle: two row-parallel passes instead.
    backwardInputAvx2(g, gy, w, gx);
    backwardWeightAvx2(g, x, gy, gw);
    if (inputDone) (*inputDone)(0, 0, g.N * g.H);
    return;
  }
  Workspace& ws = workspace();
  Scratch &rings = ws.rings, &gradRings = ws.gradRings, &partials = ws.partials, &imageGrads = ws.imageGrads;
  const int64_t nb = (g.C + kLanes - 1) / kLanes, xWidth = g.W + 2 * g.padW, partFloats = partialFloats(g);
  const int64_t rowFloats = g.Wo * g.C;
  const InputGradPlan plan = inputGradPlan(g);
  const float* wpack = packWeights(g, w, ws.packed);
  const int group = weightGroupRows(g), xSlots = static_cast<int>((group - 1) * g.stride + g.KH);
  // Chunks of whole images, each with its own partial sums.
  const Chunks chunks = rowChunks(g.N, threads);
  rings.prepare(threads, ringFloats(xSlots, nb, xWidth));
  gradRings.prepare(threads, ringFloats(static_cast<int>(g.KH), nb, plan.width));
  partials.prepare(static_cast<int>(chunks.count), partFloats);
  if (gradRows) imageGrads.prepare(threads, g.Ho * rowFloats);
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    Ring xRing = makeRing(rings.get(tid), xSlots, nb, xWidth, g.padW, g.C, g.W);
    Ring gyRing = makeRing(gradRings.get(tid), static_cast<int>(g.KH), nb, plan.width, plan.padLeft, g.C, g.Wo);
    forEachRowChunk(g.N, chunks, [&](int64_t ck, int64_t first, int64_t last) {
      float* part = partials.get(static_cast<int>(ck));
      std::fill(part, part + partFloats, 0.0f);
      for (int64_t n = first; n < last; ++n) {
        int64_t ih = 0, filled = 0;  // filled: rows of gradRows' image buffer written so far
        int64_t reported = 0;        // input-gradient rows of this image passed to inputDone
        for (int64_t oh0 = 0; oh0 < g.Ho; oh0 += group) {
          const int m = static_cast<int>(std::min<int64_t>(group, g.Ho - oh0));
          const int64_t row0 = n * g.Ho + oh0;
          GradRows rows{gy, 0, rowFloats};
          if (gradRows) {
            float* image = imageGrads.get(tid);
            if (oh0 >= filled) {
              // At least 256 pixels per call (a call has its own per-channel set-up).
              const int64_t upTo = std::min(g.Ho, std::max(oh0 + m, oh0 + (256 + g.Wo - 1) / g.Wo));
              (*gradRows)(row0, upTo - oh0, image + oh0 * rowFloats);
              filled = upTo;
            }
            rows = GradRows{image, n * g.Ho, rowFloats};
          } else {
            // The next gradient rows, in this image or the next one.
            const int64_t next = (row0 + m) * rowFloats;
            prefetchRange(gy + next, std::min(group * rowFloats, g.N * g.Ho * rowFloats - next));
          }
          backwardWeightRows(g, xRing, x, rows.base + (row0 - rows.first) * rowFloats, part, row0, m);
          // Input row ih reads gradient rows up to (ih + padH) / stride.
          const int64_t ready = oh0 + m == g.Ho ? g.H : std::min(g.H, (oh0 + m) * g.stride - g.padH);
          for (; ih < ready; ++ih) backwardInputRow(g, gyRing, rows, wpack, gx, plan.classes, n * g.H + ih);
          // Runs of at least 64 pixels, as forward's `done` gets.
          if (inputDone && ((ih - reported) * g.W >= 64 || ih == g.H)) {
            (*inputDone)(ck, n * g.H + reported, n * g.H + ih);
            reported = ih;
          }
        }
      }
    });
    reducePartials(g, partials, chunks.count, gw);
  }
}

}  // namespace cream::dw
