#include "scratch.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "registry.h"

namespace cream {

Scratch::~Scratch() {
  for (Buffer& b : buffers_) std::free(b.ptr);
}

void Scratch::prepare(int threads, size_t floats) {
  if (buffers_.size() < static_cast<size_t>(threads)) buffers_.resize(threads);
  const size_t bytes = ((std::max<size_t>(floats, 16) * sizeof(float)) + 63) / 64 * 64;
  for (int t = 0; t < threads; ++t) {
    Buffer& b = buffers_[t];
    if (b.floats * sizeof(float) >= bytes) continue;
    std::free(b.ptr);
    b.ptr = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!b.ptr) {
      b.floats = 0;
      throw KernelError{"out of memory for " + std::to_string(bytes) + " bytes of scratch buffers"};
    }
    b.floats = bytes / sizeof(float);
  }
}

}  // namespace cream
