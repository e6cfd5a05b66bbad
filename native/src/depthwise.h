// Depthwise 2-D convolution, NHWC activations, weights [KH, KW, C], no bias. Shared between the
// N-API binding (depthwise.cc, which also holds the portable scalar kernels) and the hand-written
// AVX2 kernels (depthwise_avx2.cc), which are compiled per function with target attributes and
// chosen at run time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "scratch.h"

namespace Napi {
class CallbackInfo;
}

namespace cream::dw {

struct Geometry {
  int64_t N, H, W, C;   // input [N, H, W, C]
  int64_t KH, KW;       // kernel [KH, KW, C]
  int64_t stride;       // same along H and W
  int64_t padH, padW;   // symmetric zero padding
  int64_t Ho, Wo;       // output [N, Ho, Wo, C]
};

using cream::Scratch;  // scratch.h

// Called as output rows [begin, end) of chunk `chunk` are written, while they are in cache (batch-norm's
// statistics, fused). Chunks are fixed for a geometry and thread count: forwardChunks(g) of them.
using RowsDoneFn = std::function<void(int64_t chunk, int64_t begin, int64_t end)>;
// Writes output-gradient rows [row0, row0 + rows) ([rows, Wo, C]) to `out`: the backward pass then
// computes the gradient of y a group of rows at a time instead of reading it (batch-norm's input
// gradient, fused).
using GradRowsFn = std::function<void(int64_t row0, int64_t rows, float* out)>;
// Makes input row `row` (n * H + ih) for the forward pass and returns it: written to its place in x
// when `keep` (x is complete once the pass is done), else to `scratch` ([W, C]). The batch-norm
// that produced x is then applied as the conv reads it: x is written once and never read back.
using RowSourceFn = std::function<const float*(int64_t row, bool keep, float* scratch)>;
// Called as input-gradient rows [begin, end) (row n * H + ih) of chunk `chunk` are complete, while
// they are in cache (the backward reductions of the batch-norm that produced x, fused). Chunks are
// fixed for a geometry and thread count: backwardChunks(g) of them.
using InputRowsDoneFn = std::function<void(int64_t chunk, int64_t begin, int64_t end)>;

// The whole output gradient from gradRows, written to `store`, for the passes that read gy as one
// tensor (the scalar kernels, the vector kernels' row-parallel passes).
inline const float* wholeGrad(const Geometry& g, const GradRowsFn& gradRows, std::vector<float>& store) {
  store.resize(static_cast<size_t>(g.N * g.Ho * g.Wo * g.C));
  gradRows(0, g.N * g.Ho, store.data());
  return store.data();
}

// Geometry from arguments first..first+8 (N, H, W, C, KH, KW, stride, padH, padW), checked, with the
// output size filled in.
Geometry geometryArgs(const Napi::CallbackInfo& info, size_t first, const char* op);
// Throws "<op>: <what> has n elements, expected <want> for <geometry>" unless array i has `want`.
void expectLength(const Napi::CallbackInfo& info, size_t i, int64_t want, const char* op, const char* what,
                  const Geometry& g);

// The kernels for a geometry, AVX2 where they cover it, else scalar. `done` and `gradRows` are
// optional; with gradRows, gy is not read (may be null).
// With `source`, x is made by it (every row, whatever the kernels read) and is complete afterwards.
void forward(const Geometry& g, const float* x, const float* w, float* y, const RowsDoneFn* done = nullptr,
             const RowSourceFn* source = nullptr);
int64_t forwardChunks(const Geometry& g);
// Whether every input row lies under some output row's window.
bool readsEveryRow(const Geometry& g);
void backward(const Geometry& g, const float* x, const float* gy, const float* w, float* gx, float* gw,
              const GradRowsFn* gradRows = nullptr, const InputRowsDoneFn* inputDone = nullptr);
int64_t backwardChunks(const Geometry& g);

// Portable kernels: any geometry, any CPU.
void forwardScalar(const Geometry& g, const float* x, const float* w, float* y);
void backwardInputScalar(const Geometry& g, const float* gy, const float* w, float* gx);
void backwardWeightScalar(const Geometry& g, const float* x, const float* gy, float* gw);

// AVX2+FMA kernels. `avx2Handles` says whether they cover a geometry (stride 1 or 2, kernel at
// most 7 wide); the caller also checks that the CPU has AVX2 and FMA.
bool avx2Handles(const Geometry& g);
// With `source`, every input row must lie under some output row's window (readsEveryRow).
void forwardAvx2(const Geometry& g, const float* x, const float* w, float* y, const RowsDoneFn* done = nullptr,
                 const RowSourceFn* source = nullptr);
int64_t forwardChunksAvx2(const Geometry& g);
void backwardInputAvx2(const Geometry& g, const float* gy, const float* w, float* gx);
void backwardWeightAvx2(const Geometry& g, const float* x, const float* gy, float* gw);
// Both gradients in one pass (reads gy from memory once).
void backwardAvx2(const Geometry& g, const float* x, const float* gy, const float* w, float* gx, float* gw,
                  const GradRowsFn* gradRows = nullptr, const InputRowsDoneFn* inputDone = nullptr);
int64_t backwardChunksAvx2(const Geometry& g);

// Threads for one pass: all of OpenMP's, or one for small problems, where waking a second thread
// costs more than it saves (and a busy machine can delay it by a scheduler tick).
int threadsFor(const Geometry& g);

// Rows [0, rows) split into contiguous chunks handed out dynamically: contiguous so that a thread
// reuses the padded input rows it already holds, dynamic so that a busy core does not hold up
// the other one.
int64_t chunkRows(int64_t rows, int threads);

}  // namespace cream::dw
