// Dense and grouped 2-D convolution (NHWC activations, [KH, KW, Cin/groups, Cout] weights) through
// oneDNN's convolution primitives: forward, backward-data and backward-weights (+ bias gradient).
// Primitives are created once per shape and parameters and cached. Activations stay in the
// caller's NHWC buffers; the weights are reordered when oneDNN prefers another (blocked) layout,
// which costs little since weights are small.
#include <omp.h>

#include <array>
#include <map>
#include <memory>

#include "dnnl_common.h"
#include "registry.h"
#include "signal_guard.h"

namespace cream {

namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
namespace od = onednn;

struct ConvShape {
  int64_t n, h, w, cin, cout, kh, kw, stride, pad, groups;
  bool bias;
  int64_t ho() const { return (h + 2 * pad - kh) / stride + 1; }
  int64_t wo() const { return (w + 2 * pad - kw) / stride + 1; }
  // oneDNN sizes a primitive's scratchpad for the thread count at creation, so that is part of the key.
  std::array<int64_t, 12> key() const {
    return {n, h, w, cin, cout, kh, kw, stride, pad, groups, bias ? 1 : 0, omp_get_max_threads()};
  }
};

// Reads N, H, W, Cin, Cout, KH, KW, stride, padding, groups, hasBias from info[first...].
ConvShape readShape(const Napi::CallbackInfo& info, size_t first, const char* op) {
  ConvShape s{num(info, first),     num(info, first + 1), num(info, first + 2), num(info, first + 3),
              num(info, first + 4), num(info, first + 5), num(info, first + 6), num(info, first + 7),
              num(info, first + 8), num(info, first + 9), flag(info, first + 10)};
  const std::string o(op);
  if (s.n < 1 || s.h < 1 || s.w < 1 || s.cin < 1 || s.cout < 1 || s.kh < 1 || s.kw < 1 || s.stride < 1 || s.pad < 0 ||
      s.groups < 1) {
    throw KernelError{o + ": invalid convolution parameters"};
  }
  if (s.cin % s.groups != 0 || s.cout % s.groups != 0) {
    throw KernelError{o + ": channels (" + std::to_string(s.cin) + " in, " + std::to_string(s.cout) +
                      " out) are not divisible by groups " + std::to_string(s.groups)};
  }
  if (s.ho() < 1 || s.wo() < 1) throw KernelError{o + ": kernel larger than the padded input"};
  return s;
}

memory::desc activations(int64_t n, int64_t c, int64_t h, int64_t w) {
  return memory::desc({n, c, h, w}, memory::data_type::f32, tag::nhwc);
}

// Our weight layout [KH, KW, Cin/g, Cout] described to oneDNN (logical dims (g,) o, i, h, w).
memory::desc userWeights(const ConvShape& s) {
  const int64_t ig = s.cin / s.groups, og = s.cout / s.groups;
  if (s.groups == 1) return memory::desc({s.cout, s.cin, s.kh, s.kw}, memory::data_type::f32, tag::hwio);
  return memory::desc({s.groups, og, ig, s.kh, s.kw}, memory::data_type::f32,
                      memory::dims{og, 1, s.cout, s.kw * ig * s.cout, ig * s.cout});
}

memory::desc anyWeights(const ConvShape& s) {
  const int64_t ig = s.cin / s.groups, og = s.cout / s.groups;
  if (s.groups == 1) return memory::desc({s.cout, s.cin, s.kh, s.kw}, memory::data_type::f32, tag::any);
  return memory::desc({s.groups, og, ig, s.kh, s.kw}, memory::data_type::f32, tag::any);
}

memory::desc biasDesc(const ConvShape& s) {
  return s.bias ? memory::desc({s.cout}, memory::data_type::f32, tag::x) : memory::desc();
}

// A reorder between the user's weight layout and the primitive's, when they differ.
struct WeightsPath {
  memory::desc user, prim;
  dnnl::reorder reorder;
  bool needed = false;
};

WeightsPath weightsPath(const memory::desc& user, const memory::desc& prim, bool toPrim) {
  WeightsPath p{user, prim, {}, !(user == prim)};
  if (p.needed) {
    auto& e = od::engine();
    p.reorder = toPrim ? dnnl::reorder(dnnl::reorder::primitive_desc(e, user, e, prim))
                       : dnnl::reorder(dnnl::reorder::primitive_desc(e, prim, e, user));
  }
  return p;
}

struct ConvPrimitives {
  ConvShape s;
  dnnl::convolution_forward::primitive_desc fwdPd;
  dnnl::convolution_forward fwd;
  WeightsPath fwdW;
  std::unique_ptr<dnnl::convolution_backward_data::primitive_desc> bwdDataPd;
  dnnl::convolution_backward_data bwdData;
  WeightsPath bwdDataW;
  std::unique_ptr<dnnl::convolution_backward_weights::primitive_desc> bwdWeightsPd;
  dnnl::convolution_backward_weights bwdWeights;
  WeightsPath bwdWeightsW;
};

memory::dims strides(const ConvShape& s) { return {s.stride, s.stride}; }
memory::dims padL(const ConvShape& s) { return {s.pad, s.pad}; }
// Symmetric padding: oneDNN also floors (H + pl + pr - KH) / stride + 1, so this gives our output size.
memory::dims padR(const ConvShape& s) { return {s.pad, s.pad}; }

ConvPrimitives& primitives(const ConvShape& s) {
  static std::map<std::array<int64_t, 12>, std::unique_ptr<ConvPrimitives>> cache;
  auto it = cache.find(s.key());
  if (it != cache.end()) return *it->second;
  auto& e = od::engine();
  const auto src = activations(s.n, s.cin, s.h, s.w), dst = activations(s.n, s.cout, s.ho(), s.wo());
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src,
                                    anyWeights(s), biasDesc(s), dst, strides(s), padL(s), padR(s));
  dnnl::convolution_forward::primitive_desc pd(d, od::attrs(), e);
  auto p = std::make_unique<ConvPrimitives>();
  p->s = s;
  p->fwdPd = pd;
  p->fwd = dnnl::convolution_forward(pd);
  p->fwdW = weightsPath(userWeights(s), pd.weights_desc(), true);
  return *cache.emplace(s.key(), std::move(p)).first->second;
}

void ensureBackwardData(ConvPrimitives& p) {
  if (p.bwdDataPd) return;
  const auto& s = p.s;
  dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, activations(s.n, s.cin, s.h, s.w),
                                          anyWeights(s), activations(s.n, s.cout, s.ho(), s.wo()), strides(s),
                                          padL(s), padR(s));
  p.bwdDataPd = std::make_unique<dnnl::convolution_backward_data::primitive_desc>(d, od::attrs(), od::engine(), p.fwdPd);
  p.bwdData = dnnl::convolution_backward_data(*p.bwdDataPd);
  p.bwdDataW = weightsPath(userWeights(s), p.bwdDataPd->weights_desc(), true);
}

void ensureBackwardWeights(ConvPrimitives& p) {
  if (p.bwdWeightsPd) return;
  const auto& s = p.s;
  dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, activations(s.n, s.cin, s.h, s.w),
                                             anyWeights(s), biasDesc(s), activations(s.n, s.cout, s.ho(), s.wo()),
                                             strides(s), padL(s), padR(s));
  p.bwdWeightsPd =
      std::make_unique<dnnl::convolution_backward_weights::primitive_desc>(d, od::attrs(), od::engine(), p.fwdPd);
  p.bwdWeights = dnnl::convolution_backward_weights(*p.bwdWeightsPd);
  p.bwdWeightsW = weightsPath(userWeights(s), p.bwdWeightsPd->diff_weights_desc(), false);
}

// The weights as the primitive wants them: the user's buffer, or a reordered copy in scratch slot 1.
dnnl::memory primWeights(const WeightsPath& wp, const float* w) {
  auto user = od::wrap(wp.user, w);
  if (!wp.needed) return user;
  auto prim = od::wrap(wp.prim, od::scratch(1, wp.prim.get_size()));
  wp.reorder.execute(od::stream(), user, prim);
  return prim;
}

// convForward(x, w, bias, out, N, H, W, Cin, Cout, KH, KW, stride, pad, groups, hasBias)
Napi::Value ConvForward(const Napi::CallbackInfo& info) {
  const ConvShape s = readShape(info, 4, "convForward");
  expectLen(info, 0, s.n * s.h * s.w * s.cin, "convForward", "x");
  expectLen(info, 1, s.kh * s.kw * (s.cin / s.groups) * s.cout, "convForward", "w");
  if (s.bias) expectLen(info, 2, s.cout, "convForward", "bias");
  expectLen(info, 3, s.n * s.ho() * s.wo() * s.cout, "convForward", "out");
  auto& p = primitives(s);
  // oneDNN's kernels may move the stack pointer into the heap (signal_guard.h).
  const SignalsDeferred signals;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, od::wrap(p.fwdPd.src_desc(), f32(info, 0))},
                                       {DNNL_ARG_WEIGHTS, primWeights(p.fwdW, f32(info, 1))},
                                       {DNNL_ARG_DST, od::wrap(p.fwdPd.dst_desc(), f32(info, 3))}};
  if (s.bias) args.emplace(DNNL_ARG_BIAS, od::wrap(p.fwdPd.bias_desc(), f32(info, 2)));
  od::run(p.fwd, p.fwdPd, std::move(args));
  return info.Env().Undefined();
}

// convBackwardData(gradOut, w, gradX, N, H, W, Cin, Cout, KH, KW, stride, pad, groups, hasBias)
Napi::Value ConvBackwardData(const Napi::CallbackInfo& info) {
  const ConvShape s = readShape(info, 3, "convBackwardData");
  expectLen(info, 0, s.n * s.ho() * s.wo() * s.cout, "convBackwardData", "gradOut");
  expectLen(info, 1, s.kh * s.kw * (s.cin / s.groups) * s.cout, "convBackwardData", "w");
  expectLen(info, 2, s.n * s.h * s.w * s.cin, "convBackwardData", "gradX");
  auto& p = primitives(s);
  ensureBackwardData(p);
  const auto& pd = *p.bwdDataPd;
  const SignalsDeferred signals;
  od::run(p.bwdData, pd,
          {{DNNL_ARG_DIFF_DST, od::wrap(pd.diff_dst_desc(), f32(info, 0))},
           {DNNL_ARG_WEIGHTS, primWeights(p.bwdDataW, f32(info, 1))},
           {DNNL_ARG_DIFF_SRC, od::wrap(pd.diff_src_desc(), f32(info, 2))}});
  return info.Env().Undefined();
}

// convBackwardWeights(x, gradOut, gradW, gradBias, N, H, W, Cin, Cout, KH, KW, stride, pad, groups, hasBias)
// Overwrites gradW (and gradBias when hasBias).
Napi::Value ConvBackwardWeights(const Napi::CallbackInfo& info) {
  const ConvShape s = readShape(info, 4, "convBackwardWeights");
  expectLen(info, 0, s.n * s.h * s.w * s.cin, "convBackwardWeights", "x");
  expectLen(info, 1, s.n * s.ho() * s.wo() * s.cout, "convBackwardWeights", "gradOut");
  expectLen(info, 2, s.kh * s.kw * (s.cin / s.groups) * s.cout, "convBackwardWeights", "gradW");
  if (s.bias) expectLen(info, 3, s.cout, "convBackwardWeights", "gradBias");
  auto& p = primitives(s);
  ensureBackwardWeights(p);
  const auto& pd = *p.bwdWeightsPd;
  const SignalsDeferred signals;
  const WeightsPath& wp = p.bwdWeightsW;
  auto user = od::wrap(wp.user, f32(info, 2));
  auto diffW = wp.needed ? od::wrap(wp.prim, od::scratch(1, wp.prim.get_size())) : user;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, od::wrap(pd.src_desc(), f32(info, 0))},
                                       {DNNL_ARG_DIFF_DST, od::wrap(pd.diff_dst_desc(), f32(info, 1))},
                                       {DNNL_ARG_DIFF_WEIGHTS, diffW}};
  if (s.bias) args.emplace(DNNL_ARG_DIFF_BIAS, od::wrap(pd.diff_bias_desc(), f32(info, 3)));
  od::run(p.bwdWeights, pd, std::move(args));
  if (wp.needed) {
    wp.reorder.execute(od::stream(), diffW, user);
    od::stream().wait();
  }
  return info.Env().Undefined();
}

// convImpl(kind, N, H, W, Cin, Cout, KH, KW, stride, pad, groups, hasBias) -> oneDNN implementation
// name for kind 0 forward, 1 backward-data, 2 backward-weights (for benchmarks and diagnostics).
Napi::Value ConvImpl(const Napi::CallbackInfo& info) {
  const int64_t kind = num(info, 0);
  const ConvShape s = readShape(info, 1, "convImpl");
  auto& p = primitives(s);
  const char* name = p.fwdPd.impl_info_str();
  if (kind == 1) {
    ensureBackwardData(p);
    name = p.bwdDataPd->impl_info_str();
  } else if (kind == 2) {
    ensureBackwardWeights(p);
    name = p.bwdWeightsPd->impl_info_str();
  }
  return Napi::String::New(info.Env(), name);
}

}  // namespace

CREAM_EXPORT("convForward", ConvForward);
CREAM_EXPORT("convBackwardData", ConvBackwardData);
CREAM_EXPORT("convBackwardWeights", ConvBackwardWeights);
CREAM_EXPORT("convImpl", ConvImpl);

}  // namespace cream
