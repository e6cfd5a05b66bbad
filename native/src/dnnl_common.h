// One oneDNN CPU engine and stream for the whole addon, plus the shared scratch memory that cached
// primitives use. Everything runs on Node's main thread, so none of this needs locking.
#pragma once
#include <dnnl.hpp>

#include <cstddef>
#include <unordered_map>

namespace cream::onednn {

dnnl::engine& engine();
dnnl::stream& stream();

// Attributes for cached primitives: user-managed scratchpad, so a hundred cached primitives share
// one buffer instead of each holding its own.
dnnl::primitive_attr attrs();

// A scratch buffer of at least `bytes`, 64-byte aligned. Slot 0 is the primitives' scratchpad;
// other slots hold intermediate tensors (e.g. weights reordered to a primitive's preferred layout).
// The pointer stays valid until the next call with the same slot and a larger size.
void* scratch(int slot, size_t bytes);

// Wraps a caller-owned pointer as oneDNN memory (cheap: no allocation).
inline dnnl::memory wrap(const dnnl::memory::desc& md, const void* ptr) {
  return dnnl::memory(md, engine(), const_cast<void*>(ptr));
}

// Runs `prim` with `args` plus the shared scratchpad of `pd`, and waits for it.
void run(const dnnl::primitive& prim, const dnnl::primitive_desc_base& pd,
         std::unordered_map<int, dnnl::memory> args);

}  // namespace cream::onednn
