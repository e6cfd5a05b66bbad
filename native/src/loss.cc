// Fused classification losses over logits [N, C]: log-softmax, the batch-mean loss and its gradient
// with respect to the logits in one pass per row (the gradient is written only when asked for, and
// is the gradient of the mean loss: the tape scales it by the incoming scalar gradient). Also the
// top-k hit count behind accuracy.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "reduce_parallel.h"
#include "registry.h"

namespace cream {

namespace {

void checkRows(const Napi::CallbackInfo& info, const char* op, int64_t N, int64_t C, size_t i, const char* name) {
  if (N <= 0 || C <= 0) throw KernelError{std::string(op) + ": dimensions must be positive"};
  if (static_cast<int64_t>(len(info, i)) != N * C) {
    throw KernelError{std::string(op) + ": " + name + " has " + std::to_string(len(info, i)) + " elements, expected " +
                      std::to_string(N) + " x " + std::to_string(C)};
  }
}

void checkLabels(const int32_t* labels, size_t count, int64_t N, int64_t C, const char* op) {
  if (static_cast<int64_t>(count) != N) {
    throw KernelError{std::string(op) + ": " + std::to_string(count) + " labels for " + std::to_string(N) + " rows"};
  }
  for (int64_t n = 0; n < N; ++n) {
    if (labels[n] < 0 || labels[n] >= C) {
      throw KernelError{std::string(op) + ": label " + std::to_string(labels[n]) + " at row " + std::to_string(n) +
                        " is outside [0, " + std::to_string(C) + ")"};
    }
  }
}

// log(sum(exp(x))) of one row, stable.
double logSumExp(const float* x, int64_t C) {
  float m = x[0];
  for (int64_t c = 1; c < C; ++c) m = std::max(m, x[c]);
  double s = 0;
  for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(x[c] - m));
  return m + std::log(s);
}

// Runs row(r, lossOut) over rows in parallel and returns the mean of the per-row losses.
template <typename F>
double meanOverRows(int64_t N, int64_t C, F row) {
  std::vector<double> losses(N);
  parallelRows(N, rowThreads(N * C * 8), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) losses[r] = row(r);
  });
  double total = 0;
  for (double l : losses) total += l;
  return total / N;
}

}  // namespace

// crossEntropy(logits, labels, N, C, labelSmoothing, grad) -> mean loss. The target row is
// (1 - ls) onehot(label) + ls / C (PyTorch's label smoothing); grad (may be empty) = (softmax -
// target) / N.
static Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  const char* op = "crossEntropy";
  const float* logits = f32(info, 0);
  const int32_t* labels = i32(info, 1);
  const int64_t N = num(info, 2), C = num(info, 3);
  const double ls = dbl(info, 4);
  float* grad = f32(info, 5);
  checkRows(info, op, N, C, 0, "logits");
  checkLabels(labels, len(info, 1), N, C, op);
  const bool wantGrad = len(info, 5) != 0;
  if (wantGrad) checkRows(info, op, N, C, 5, "grad");
  const double off = ls / C, on = 1 - ls + off;
  const double loss = meanOverRows(N, C, [&](int64_t r) {
    const float* x = logits + r * C;
    const double lse = logSumExp(x, C);
    double sumLogp = 0;
    for (int64_t c = 0; c < C; ++c) sumLogp += x[c] - lse;
    const double logpLabel = x[labels[r]] - lse;
    if (wantGrad) {
      float* g = grad + r * C;
      for (int64_t c = 0; c < C; ++c) g[c] = static_cast<float>((std::exp(x[c] - lse) - off) / N);
      g[labels[r]] = static_cast<float>((std::exp(logpLabel) - on) / N);
    }
    return -((1 - ls) * logpLabel + off * sumLogp);
  });
  return Napi::Number::New(info.Env(), loss);
}

// softTargetCrossEntropy(logits, targets, N, C, grad) -> mean_n sum_c -t_c log_softmax(x)_c;
// grad (may be empty) = (softmax sum_c t_c - t) / N. Targets get no gradient (distillation).
static Napi::Value SoftTargetCrossEntropy(const Napi::CallbackInfo& info) {
  const char* op = "softTargetCrossEntropy";
  const float* logits = f32(info, 0);
  const float* targets = f32(info, 1);
  const int64_t N = num(info, 2), C = num(info, 3);
  float* grad = f32(info, 4);
  checkRows(info, op, N, C, 0, "logits");
  checkRows(info, op, N, C, 1, "targets");
  const bool wantGrad = len(info, 4) != 0;
  if (wantGrad) checkRows(info, op, N, C, 4, "grad");
  const double loss = meanOverRows(N, C, [&](int64_t r) {
    const float* x = logits + r * C;
    const float* t = targets + r * C;
    const double lse = logSumExp(x, C);
    double l = 0, tsum = 0;
    for (int64_t c = 0; c < C; ++c) {
      l -= t[c] * (x[c] - lse);
      tsum += t[c];
    }
    if (wantGrad) {
      float* g = grad + r * C;
      for (int64_t c = 0; c < C; ++c) g[c] = static_cast<float>((std::exp(x[c] - lse) * tsum - t[c]) / N);
    }
    return l;
  });
  return Napi::Number::New(info.Env(), loss);
}

// topkHits(logits, labels, N, C, k) -> number of rows whose label is among the k largest logits.
// Ties rank the lower class index first (so k = 1 agrees with argmax taking the first maximum).
static Napi::Value TopkHits(const Napi::CallbackInfo& info) {
  const char* op = "topkHits";
  const float* logits = f32(info, 0);
  const int32_t* labels = i32(info, 1);
  const int64_t N = num(info, 2), C = num(info, 3), k = num(info, 4);
  checkRows(info, op, N, C, 0, "logits");
  checkLabels(labels, len(info, 1), N, C, op);
  if (k < 1) throw KernelError{"topkHits: k must be at least 1"};
  int64_t hits = 0;
  for (int64_t r = 0; r < N; ++r) {
    const float* x = logits + r * C;
    const int64_t label = labels[r];
    const float v = x[label];
    int64_t above = 0;
    for (int64_t c = 0; c < C; ++c) above += (x[c] > v) || (x[c] == v && c < label);
    hits += above < k;
  }
  return Napi::Number::New(info.Env(), static_cast<double>(hits));
}

CREAM_EXPORT("crossEntropy", CrossEntropy);
CREAM_EXPORT("softTargetCrossEntropy", SoftTargetCrossEntropy);
CREAM_EXPORT("topkHits", TopkHits);

}  // namespace cream
