// Training-mode depthwise conv followed by batch-norm and its activation, fused: the middle layer of
// an MBConv block. Separately, batch-norm reads the conv's output z once for its statistics and again
// to normalise it; backward, it writes the gradient of z and the conv reads it back. Here:
//   forward:  the statistics of each output row as the conv writes it, while it is in cache (one
//             pass over z saved);
//   backward: batch-norm's input gradient is computed a few rows at a time inside the conv's
//             backward pass (depthwise.h's GradRowsFn), into a per-thread buffer of one image, and
//             never written out (two passes saved).
// The arithmetic is batchnorm.cc's (the same row kernels), so results match the unfused ops up to
// the order of the statistics' sums.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "batchnorm.h"
#include "depthwise.h"
#include "registry.h"

namespace cream {

namespace {

void expectPerChannel(const Napi::CallbackInfo& info, std::initializer_list<size_t> args, const dw::Geometry& g,
                      const char* op) {
  for (size_t i : args) dw::expectLength(info, i, g.C, op, "a per-channel array", g);
}

// depthwiseBnForward(x [N, H, W, C], w [KH, KW, C], N, H, W, C, KH, KW, stride, padH, padW, gamma, beta,
//                    runningMean, runningVar, momentum, eps, act, z, y, saveMean, saveInvstd,
//                    inZ, inGamma, inBeta, inMean, inInvstd, inAct)
// z = depthwise(x, w) [N, Ho, Wo, C]; y = act(batch_norm(z) * gamma + beta) with batch statistics,
// saved for the backward pass and moved into the running ones as bnForward does in training.
// When x is to be a batch-norm's output, x = inAct(batch_norm(inZ)) with inZ [N, H, W, C] and that
// batch-norm's statistics inMean/inInvstd (pointwiseBnForward without y), inZ..inAct may carry it
// (an empty inZ: not given): x is then written here, each row as the conv first reads it.
Napi::Value DepthwiseBnForward(const Napi::CallbackInfo& info) {
  const char* op = "depthwiseBnForward";
  const float* x = f32(info, 0);
  const float* w = f32(info, 1);
  const dw::Geometry g = dw::geometryArgs(info, 2, op);
  const float* gamma = f32(info, 11);
  const float* beta = f32(info, 12);
  float* runMean = f32(info, 13);
  float* runVar = f32(info, 14);
  const double momentum = dbl(info, 15), eps = dbl(info, 16);
  const int act = bnActivation(info, 17, op);
  float* z = f32(info, 18);
  float* y = f32(info, 19);
  float* saveMean = f32(info, 20);
  float* saveInvstd = f32(info, 21);
  const int64_t C = g.C, pixels = g.N * g.Ho * g.Wo;
  dw::expectLength(info, 0, g.N * g.H * g.W * C, op, "x", g);
  dw::expectLength(info, 1, g.KH * g.KW * C, op, "w", g);
  expectPerChannel(info, {11, 12, 13, 14, 20, 21}, g, op);
  dw::expectLength(info, 18, pixels * C, op, "z", g);
  dw::expectLength(info, 19, pixels * C, op, "y", g);
  if (pixels < 2) throw KernelError{std::string(op) + ": training needs more than one value per channel"};
  const BnKernels& kern = bnKernels();

  // With a producer, x's rows are made from inZ by the conv as it first reads them.
  const bool made = len(info, 22) != 0;
  dw::RowSourceFn source;
  if (made) {
    const float* inZ = f32(info, 22);
    const int inAct = bnActivation(info, 27, op);
    dw::expectLength(info, 22, g.N * g.H * g.W * C, op, "inZ", g);
    expectPerChannel(info, {23, 24, 25, 26}, g, op);
    float* xOut = f32(info, 0);
    const int64_t rowFloats = g.W * C;
    source = [&kern, inZ, inAct, xOut, rowFloats, C, W = g.W,
              in = BnAffine(f32(info, 25), f32(info, 26), f32(info, 23), f32(info, 24), C)](
                 int64_t row, bool keep, float* scratch) -> const float* {
      float* out = keep ? xOut + row * rowFloats : scratch;
      kern.apply[inAct](inZ + row * rowFloats, out, C, 0, W, in.mean.data(), in.s.data(), in.beta.data());
      return out;
    };
  }

  // The statistics are sums of z - shift with shift = z's first pixel (as bnForward shifts by its
  // input's first row, against cancellation), computed up front so that every row can use it.
  std::vector<float> shift(pad8(C), 0.f), rowBuffer(made ? g.W * C : 0);
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    const int64_t ih = kh - g.padH;
    if (ih < 0 || ih >= g.H) continue;
    const float* xRow = made ? source(ih, false, rowBuffer.data()) : x + ih * g.W * C;
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      const int64_t iw = kw - g.padW;
      if (iw < 0 || iw >= g.W) continue;
      for (int64_t c = 0; c < C; ++c) shift[c] += xRow[iw * C + c] * w[(kh * g.KW + kw) * C + c];
    }
  }
  ChannelSums sums(dw::forwardChunks(g), C);
  const dw::RowsDoneFn stats = [&](int64_t chunk, int64_t begin, int64_t end) {
    kern.stats(z + begin * g.Wo * C, C, 0, (end - begin) * g.Wo, shift.data(), sums.a(chunk), sums.b(chunk),
               sums.accA(), sums.accB());
  };
  dw::forward(g, x, w, z, &stats, made ? &source : nullptr);
  sums.combine();
  finishTrainingStats(sums.a(0), sums.b(0), shift.data(), pixels, C, momentum, eps, runMean, runVar, saveMean,
                      saveInvstd);
  bnApplyRows(act, z, y, pixels, C, BnAffine(saveMean, saveInvstd, gamma, beta, C));
  return info.Env().Undefined();
}

// depthwiseBnBackward(x, w, z, dy, N, H, W, C, KH, KW, stride, padH, padW, gamma, beta, mean, invstd,
//                     act, gx, gw, dgamma, dbeta, scratch,
//                     inZ, inGamma, inBeta, inMean, inInvstd, inAct, inSums)
// Gradients of depthwiseBnForward's y given dy; mean/invstd are what it saved. dgamma and dbeta may be
// empty arrays: not wanted. scratch [N, Ho, Wo, C] holds dy act'(.) for swish between the passes (as
// bnBackward keeps it); other activations take an empty array.
// When x came from a batch-norm (x = inAct(batch_norm(inZ)), inZ [N, H, W, C], its saved statistics
// inMean/inInvstd), inZ..inSums may carry it (an empty inZ: not given); then the first pass of that
// batch-norm's backward runs on each run of gx rows as it is written (depthwise.h's InputRowsDoneFn):
// gx receives gx inAct'(.) instead of gx, and inSums (Float64Array [2, C]) the sums of it and of it
// times (inZ - inMean), which pointwiseBnBackward takes in place of its own first pass. That pass
// then never reads gx back from memory nor writes its scratch, and swish's derivative comes from
// inZ and x (its output, which the weight gradient has just read) without an exponential.
Napi::Value DepthwiseBnBackward(const Napi::CallbackInfo& info) {
  const char* op = "depthwiseBnBackward";
  const float* x = f32(info, 0);
  const float* w = f32(info, 1);
  const float* z = f32(info, 2);
  const float* dy = f32(info, 3);
  const dw::Geometry g = dw::geometryArgs(info, 4, op);
  const float* gamma = f32(info, 13);
  const float* beta = f32(info, 14);
  const float* mean = f32(info, 15);
  const float* invstd = f32(info, 16);
  const int act = bnActivation(info, 17, op);
  float* gx = f32(info, 18);
  float* gw = f32(info, 19);
  float* dgamma = f32(info, 20);
  float* dbeta = f32(info, 21);
  float* scratch = f32(info, 22);
  const int64_t C = g.C, pixels = g.N * g.Ho * g.Wo, rowFloats = g.Wo * C;
  const bool wantGamma = len(info, 20) != 0, wantBeta = len(info, 21) != 0, keepDz = len(info, 22) != 0;
  dw::expectLength(info, 0, g.N * g.H * g.W * C, op, "x", g);
  dw::expectLength(info, 1, g.KH * g.KW * C, op, "w", g);
  dw::expectLength(info, 2, pixels * C, op, "z", g);
  dw::expectLength(info, 3, pixels * C, op, "dy", g);
  expectPerChannel(info, {13, 14, 15, 16}, g, op);
  dw::expectLength(info, 18, g.N * g.H * g.W * C, op, "gx", g);
  dw::expectLength(info, 19, g.KH * g.KW * C, op, "gw", g);
  if (wantGamma) expectPerChannel(info, {20}, g, op);
  if (wantBeta) expectPerChannel(info, {21}, g, op);
  if (keepDz) dw::expectLength(info, 22, pixels * C, op, "scratch", g);
  const BnKernels& kern = bnKernels();
  const BnAffine a(mean, invstd, gamma, beta, C);

  std::vector<double> sdz(pad8(C)), sdzx(pad8(C));
  bnGradSums(act, z, dy, pixels, C, a, invstd, keepDz ? scratch : nullptr, sdz.data(), sdzx.data(),
             wantGamma ? dgamma : nullptr, wantBeta ? dbeta : nullptr);
  const BnGradCoefficients kc(gamma, invstd, sdz.data(), sdzx.data(), pixels, C, true);
  // With dz kept, the rows come from it as the gradient of an activation-free batch-norm.
  const float* src = keepDz ? scratch : dy;
  const auto gradInput = kern.gradInput[keepDz ? kBnActNone : act];
  const dw::GradRowsFn rows = [&](int64_t row0, int64_t count, float* out) {
    gradInput(z + row0 * rowFloats, src + row0 * rowFloats, out, C, 0, count * g.Wo, a.mean.data(), a.s.data(),
              a.beta.data(), kc.k1.data(), kc.k2.data(), kc.k3.data());
  };
  if (len(info, 23) == 0) {
    dw::backward(g, x, nullptr, w, gx, gw, &rows);
    return info.Env().Undefined();
  }

  const float* inZ = f32(info, 23);
  const int inAct = bnActivation(info, 28, op);
  double* inSums = f64(info, 29);
  dw::expectLength(info, 23, g.N * g.H * g.W * C, op, "inZ", g);
  expectPerChannel(info, {24, 25, 26, 27}, g, op);
  dw::expectLength(info, 29, 2 * C, op, "inSums", g);
  const BnAffine in(f32(info, 26), f32(info, 27), f32(info, 24), f32(info, 25), C);
  ChannelSums sums(dw::backwardChunks(g), C);
  const dw::InputRowsDoneFn inputDone = [&](int64_t chunk, int64_t begin, int64_t end) {
    const int64_t at = begin * g.W * C, count = (end - begin) * g.W;
    float* d = gx + at;  // in place: each element is read before it is written
    if (inAct == kBnActSwish) {
      // x is swish's output, and the weight gradient has just read these rows: they are in cache.
      kern.gradStatsSwishWithOutput(inZ + at, x + at, d, C, 0, count, in.mean.data(), in.s.data(), in.beta.data(),
                                    sums.a(chunk), sums.b(chunk), sums.accA(), sums.accB(), d);
    } else {
      kern.gradStats[inAct](inZ + at, d, C, 0, count, in.mean.data(), in.s.data(), in.beta.data(), sums.a(chunk),
                            sums.b(chunk), sums.accA(), sums.accB(), d);
    }
  };
  dw::backward(g, x, nullptr, w, gx, gw, &rows, &inputDone);
  sums.combine();
  std::copy(sums.a(0), sums.a(0) + C, inSums);
  std::copy(sums.b(0), sums.b(0) + C, inSums + C);
  return info.Env().Undefined();
}

}  // namespace

CREAM_EXPORT("depthwiseBnForward", DepthwiseBnForward);
CREAM_EXPORT("depthwiseBnBackward", DepthwiseBnBackward);

}  // namespace cream
