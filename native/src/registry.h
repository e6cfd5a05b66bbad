// Each kernel file registers its JS-visible functions with a static Registrar, so adding a kernel
// never means editing a central list. addon.cc exports everything registered.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cream {

using NativeFn = Napi::Value (*)(const Napi::CallbackInfo&);

struct Registration {
  const char* name;
  NativeFn fn;
};

std::vector<Registration>& registry();

struct Registrar {
  Registrar(const char* name, NativeFn fn) { registry().push_back({name, fn}); }
};

#define CREAM_CONCAT_(a, b) a##b
#define CREAM_CONCAT(a, b) CREAM_CONCAT_(a, b)
// CREAM_EXPORT(name, fn): makes `fn` callable from JS as native.name.
#define CREAM_EXPORT(name, fn) static ::cream::Registrar CREAM_CONCAT(cream_reg_, __LINE__)(name, fn)

// Argument helpers. They throw a JS TypeError naming the argument index on misuse, so a wrong call
// from the TypeScript layer fails loudly instead of reading garbage.
float* f32(const Napi::CallbackInfo& info, size_t i);
double* f64(const Napi::CallbackInfo& info, size_t i);
int32_t* i32(const Napi::CallbackInfo& info, size_t i);
size_t len(const Napi::CallbackInfo& info, size_t i);  // element count of typed array i
int64_t num(const Napi::CallbackInfo& info, size_t i);
double dbl(const Napi::CallbackInfo& info, size_t i);
bool flag(const Napi::CallbackInfo& info, size_t i);
// Throws "<op>: <name> has N elements, expected <want>" unless typed array i has `want` elements.
void expectLen(const Napi::CallbackInfo& info, size_t i, int64_t want, const char* op, const char* name);

// Thrown from kernels on bad shapes; converted to a JS Error at the boundary.
struct KernelError {
  std::string message;
};

}  // namespace cream
