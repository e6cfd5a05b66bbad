// See signal_guard.h for why kernels that call into oneDNN defer signals.
#include "signal_guard.h"

#include "registry.h"

#include <omp.h>
#include <pthread.h>

#include <initializer_list>

namespace cream {

namespace {
// Every asynchronous signal. Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) stay deliverable: a
// blocked fault kills the process without running crash handlers, and they are never pending anyway.
const sigset_t& allSignals() {
  static const sigset_t all = [] {
    sigset_t s;
    sigfillset(&s);
    for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP}) sigdelset(&s, fault);
    return s;
  }();
  return all;
}
}  // namespace

namespace {
// Nesting depth of deferral on this thread, and the mask to restore when it drops to 0: inner
// guards cost nothing, so a caller can defer once around many kernel calls (two syscalls per
// batch-1 inference instead of two per op, which cost ~17% of the smallest network's latency).
thread_local int depth = 0;
thread_local sigset_t saved;
}  // namespace

void deferSignalsBegin() {
  if (depth++ == 0) pthread_sigmask(SIG_BLOCK, &allSignals(), &saved);
}

void deferSignalsEnd() {
  if (depth > 0 && --depth == 0) pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

SignalsDeferred::SignalsDeferred() { deferSignalsBegin(); }
SignalsDeferred::~SignalsDeferred() { deferSignalsEnd(); }

// deferSignals(true) / deferSignals(false): JS brackets a run of kernel calls (see src/models/inference.ts).
static Napi::Value DeferSignals(const Napi::CallbackInfo& info) {
  if (flag(info, 0)) {
    deferSignalsBegin();
  } else {
    deferSignalsEnd();
  }
  return info.Env().Undefined();
}

CREAM_EXPORT("deferSignals", DeferSignals);

void blockSignalsInWorkerThreads() {
  // Threads that libgomp creates for this region inherit the caller's mask, so block it here too.
  SignalsDeferred callerBlocked;
#pragma omp parallel
  {
    if (omp_get_thread_num() != 0) pthread_sigmask(SIG_BLOCK, &allSignals(), nullptr);
  }
}

}  // namespace cream
