// Module entry: exports every function registered by the kernel files, plus thread control.
#include <omp.h>

#include "reduce_parallel.h"
#include "registry.h"
#include "signal_guard.h"

namespace cream {

std::vector<Registration>& registry() {
  static std::vector<Registration> r;
  return r;
}

static Napi::TypedArray typed(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type want, const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray()) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a " + what);
  }
  auto arr = info[i].As<Napi::TypedArray>();
  if (arr.TypedArrayType() != want) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a " + what);
  }
  return arr;
}

float* f32(const Napi::CallbackInfo& info, size_t i) {
  auto a = typed(info, i, napi_float32_array, "Float32Array").As<Napi::Float32Array>();
  return a.Data();
}
double* f64(const Napi::CallbackInfo& info, size_t i) {
  auto a = typed(info, i, napi_float64_array, "Float64Array").As<Napi::Float64Array>();
  return a.Data();
}
int32_t* i32(const Napi::CallbackInfo& info, size_t i) {
  auto a = typed(info, i, napi_int32_array, "Int32Array").As<Napi::Int32Array>();
  return a.Data();
}
size_t len(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsTypedArray()) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a typed array");
  }
  return info[i].As<Napi::TypedArray>().ElementLength();
}
int64_t num(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  }
  return info[i].As<Napi::Number>().Int64Value();
}
double dbl(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  }
  return info[i].As<Napi::Number>().DoubleValue();
}
bool flag(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " missing");
  return info[i].ToBoolean().Value();
}

void expectLen(const Napi::CallbackInfo& info, size_t i, int64_t want, const char* op, const char* name) {
  if (static_cast<int64_t>(len(info, i)) != want) {
    throw KernelError{std::string(op) + ": " + name + " has " + std::to_string(len(info, i)) + " elements, expected " +
                      std::to_string(want)};
  }
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  omp_set_num_threads(static_cast<int>(num(info, 0)));
  blockSignalsInWorkerThreads();
  return info.Env().Undefined();
}
static Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}
// Reports the widest SIMD level this CPU supports (the hand-written kernels go up to AVX2).
static Napi::Value SimdLevel(const Napi::CallbackInfo& info) {
  __builtin_cpu_init();
  const char* level = __builtin_cpu_supports("avx512f") ? "avx512" : __builtin_cpu_supports("avx2") ? "avx2" : "scalar";
  return Napi::String::New(info.Env(), level);
}
// The build of the batch-norm, activation and pointwise kernels in use: "avx2" (AVX2+FMA) or
// "baseline" (x86-64 SSE2: a CPU without AVX2, or CREAM_SIMD=baseline).
static Napi::Value VectorKernels(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), useAvx2Kernels() ? "avx2" : "baseline");
}
// A no-op, to measure the JS -> native -> JS cost of one call.
static Napi::Value Noop(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

CREAM_EXPORT("setThreads", SetThreads);
CREAM_EXPORT("getThreads", GetThreads);
CREAM_EXPORT("simdLevel", SimdLevel);
CREAM_EXPORT("vectorKernels", VectorKernels);
CREAM_EXPORT("noop", Noop);

}  // namespace cream

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  cream::blockSignalsInWorkerThreads();
  for (const auto& r : cream::registry()) {
    exports.Set(r.name, Napi::Function::New(
                            env,
                            [fn = r.fn](const Napi::CallbackInfo& info) -> Napi::Value {
                              try {
                                return fn(info);
                              } catch (const cream::KernelError& e) {
                                Napi::Error::New(info.Env(), e.message).ThrowAsJavaScriptException();
                              } catch (const Napi::Error& e) {
                                e.ThrowAsJavaScriptException();
                              } catch (const std::exception& e) {
                                Napi::Error::New(info.Env(), e.what()).ThrowAsJavaScriptException();
                              }
                              return info.Env().Undefined();
                            },
                            r.name));
  }
  return exports;
}

NODE_API_MODULE(cream_native, Init)
