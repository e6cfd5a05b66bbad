// Where a typed array's data lies within its memory page: the tensor allocator (src/tensor/storage.ts)
// starts large tensors on a page boundary, which only the address can tell.
#include <cstdint>

#include "registry.h"

namespace cream {

namespace {

// pageOffset(array) -> the address of the array's first element modulo 4096.
Napi::Value PageOffset(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    throw Napi::TypeError::New(info.Env(), "argument 0 must be a typed array");
  }
  const auto a = info[0].As<Napi::TypedArray>();
  const auto address = reinterpret_cast<uintptr_t>(a.ArrayBuffer().Data()) + a.ByteOffset();
  return Napi::Number::New(info.Env(), static_cast<double>(address % 4096));
}

}  // namespace

CREAM_EXPORT("pageOffset", PageOffset);

}  // namespace cream
