// Per-thread scratch buffers for the kernels' parallel regions.
#pragma once
#include <cstddef>
#include <vector>

namespace cream {

// Scratch buffers for the threads of one parallel region (64-byte aligned, grown on demand, never
// shrunk). `prepare` runs before the region, each thread then uses `get(omp_get_thread_num())`.
// Instances are thread_local to the calling thread, so that kernels called from different JS
// threads (workers) at the same time do not share them; kept between calls, so that a call does
// not fault in fresh pages.
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch();
  void prepare(int threads, size_t floats);
  float* get(int thread) const { return buffers_[thread].ptr; }

 private:
  struct Buffer {
    float* ptr = nullptr;
    size_t floats = 0;
  };
  std::vector<Buffer> buffers_;
};

}  // namespace cream
