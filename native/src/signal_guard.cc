// See signal_guard.h for why kernels that call into oneDNN defer signals.
#include "signal_guard.h"

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

SignalsDeferred::SignalsDeferred() { pthread_sigmask(SIG_BLOCK, &allSignals(), &previous_); }
SignalsDeferred::~SignalsDeferred() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

void blockSignalsInWorkerThreads() {
  // Threads that libgomp creates for this region inherit the caller's mask, so block it here too.
  SignalsDeferred callerBlocked;
#pragma omp parallel
  {
    if (omp_get_thread_num() != 0) pthread_sigmask(SIG_BLOCK, &allSignals(), nullptr);
  }
}

}  // namespace cream
