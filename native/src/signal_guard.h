// Keeps signal handlers off oneDNN's borrowed stacks.
//
// oneDNN 2.6's JIT sgemm kernels (behind dnnl_sgemm) point the stack pointer into a heap-allocated
// buffer while they run. A signal delivered to that thread then has its frame (~1 KiB of saved
// registers, plus the handler's own locals) written below that pointer, i.e. over malloc's
// bookkeeping or live data. The convolution primitives may use the same kernels, so they are guarded
// too. V8's CPU profiler (`node --cpu-prof`) sends SIGPROF every
// millisecond and its handler uses several KiB of stack: that was the "corrupted size vs. prev_size"
// abort inside dnnl_sgemm. Measured with a 40-line C++ loop over dnnl_sgemm and a SIGPROF timer:
// about 1% of samples land with RSP in the heap; an 8 KiB handler corrupts the heap within seconds.
//
// So: the calling thread defers all signals while it is inside oneDNN (a pending signal is delivered
// when the kernel returns), and the OpenMP worker threads, which run the same kernels and never need
// a signal, block them for good.
#pragma once
#include <signal.h>

namespace cream {

// Blocks every asynchronous signal on this thread until the matching end, then restores the mask
// of before the outermost begin. Nested begin/end pairs only count.
void deferSignalsBegin();
void deferSignalsEnd();

// deferSignalsBegin() for the guard's lifetime.
class SignalsDeferred {
 public:
  SignalsDeferred();
  ~SignalsDeferred();
  SignalsDeferred(const SignalsDeferred&) = delete;
  SignalsDeferred& operator=(const SignalsDeferred&) = delete;
};

// Blocks all asynchronous signals in the OpenMP worker threads of a team of omp_get_max_threads(),
// including threads this call creates. Call after any change of the thread count.
void blockSignalsInWorkerThreads();

}  // namespace cream
