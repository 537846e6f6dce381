//===- loss_kernels.cpp - CPU kernels of the losses -----------------------===//
//
// cross_entropy, mse_loss and nll_loss with their gradients, following
// PyTorch's CPU kernels operation by operation (same formulas, same order
// of float operations where it matters); the means accumulate in double.
// The _f64 twins compute in double (their means in long double).
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/dnnl_eltwise.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

using dpc::recordError;

namespace {

/// Shift of a row's log-softmax, max + log(sum(exp(x - max))), computed as
/// torch's _vec_log_softmax_lastdim does, so log_softmax = x - shift: the
/// exponentials in T (expf for float32), summed in double.
template <typename T> T logSoftmaxShift(const T *row, int64_t c) {
  T max = row[0];
  for (int64_t j = 1; j < c; ++j)
    if (std::isnan(row[j]) || row[j] > max)
      max = row[j];
  double sum = 0.0;
  for (int64_t j = 0; j < c; ++j)
    sum += std::exp(row[j] - max);
  return max + std::log(static_cast<T>(sum));
}

/// What the means of the T losses accumulate in: double for float32; long
/// double for float64, so that the mean stays within an ulp or two of the
/// exact one however many samples (as torch's float64 sums, which are
/// cascaded).
template <typename T>
using MeanSum =
    std::conditional_t<std::is_same_v<T, float>, double, long double>;

bool checkLabel(dpcrt_context *ctx, const char *kernel, int64_t label,
                int64_t sample, int64_t c) {
  if (label >= 0 && label < c)
    return true;
  recordError(ctx, std::string(kernel) + ": label " + std::to_string(label) +
                       " of sample " + std::to_string(sample) +
                       " is out of range [0, " + std::to_string(c) + ")");
  return false;
}

/// softmax(logits) into out row by row, for cross_entropy_grad: oneDNN's
/// (vectorized exp) for float32; for float64 exp(x - shift) of the
/// forward's log-softmax shift. False after an error.
bool softmaxRows(dpcrt_context *ctx, float *out, const float *logits, int64_t n,
                 int64_t c) {
  return dpc::dnnlSoftmax(ctx, "cross_entropy_grad", /*log=*/false,
                          /*backward=*/false, out, logits, nullptr, n, c, 1);
}

bool softmaxRows(dpcrt_context *, double *out, const double *logits, int64_t n,
                 int64_t c) {
  for (int64_t i = 0; i < n; ++i) {
    const double *row = logits + i * c;
    double shift = logSoftmaxShift(row, c);
    for (int64_t j = 0; j < c; ++j)
      out[i * c + j] = std::exp(row[j] - shift);
  }
  return true;
}

// The losses for T float (the _f32 kernels) and double (_f64: the same
// formulas in double, the means in long double).

template <typename T>
void crossEntropy(dpcrt_context *ctx, T *loss, const T *logits,
                  const int64_t *labels, int64_t n, int64_t c) {
  MeanSum<T> total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "cross_entropy", labels[i], i, c)) {
      loss[0] = NAN;
      return;
    }
    const T *row = logits + i * c;
    total += -(row[labels[i]] - logSoftmaxShift(row, c));
  }
  // nll_loss's mean divides by the number of samples (total weight).
  loss[0] = static_cast<T>(total / static_cast<MeanSum<T>>(n));
}

template <typename T>
void crossEntropyGrad(dpcrt_context *ctx, T *dlogits, const T *dloss,
                      const T *logits, const int64_t *labels, int64_t n,
                      int64_t c) {
  for (int64_t i = 0; i < n; ++i)
    if (!checkLabel(ctx, "cross_entropy_grad", labels[i], i, c)) {
      std::fill(dlogits, dlogits + n * c, NAN);
      return;
    }
  // nll_loss_backward puts g = -dloss / n at the label; log_softmax_backward
  // then gives g * onehot - exp(log_softmax) * g, with exp(log_softmax) the
  // softmax, computed in place in dlogits. The forward's log-softmax stays
  // scalar: oneDNN's softmax_log is off by 3.5e-6 (see dpcrt_softmax_f32).
  T g = -(dloss[0] / static_cast<T>(n));
  if (!softmaxRows(ctx, dlogits, logits, n, c)) {
    std::fill(dlogits, dlogits + n * c, NAN);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    T *drow = dlogits + i * c;
    int64_t label = labels[i];
    for (int64_t j = 0; j < c; ++j) {
      T gj = j == label ? g : T(0);
      drow[j] = gj - drow[j] * g;
    }
  }
}

template <typename T>
void mseLoss(T *loss, const T *pred, const T *target, int64_t n) {
  MeanSum<T> total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    T d = pred[i] - target[i];
    total += d * d; // the square in T, as torch's
  }
  loss[0] = static_cast<T>(total / static_cast<MeanSum<T>>(n));
}

template <typename T>
void mseLossGrad(T *dpred, const T *dloss, const T *pred, const T *target,
                 int64_t n) {
  // mse_loss_backward: (pred - target) * (2 / n) * dloss, norm rounded to
  // T first as torch's scalar multiply does.
  T norm = static_cast<T>(2.0 / static_cast<double>(n));
  for (int64_t i = 0; i < n; ++i)
    dpred[i] = (pred[i] - target[i]) * norm * dloss[0];
}

template <typename T>
void nllLoss(dpcrt_context *ctx, T *loss, const T *input, const int64_t *labels,
             int64_t n, int64_t c) {
  MeanSum<T> total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "nll_loss", labels[i], i, c)) {
      loss[0] = NAN;
      return;
    }
    total -= input[i * c + labels[i]];
  }
  loss[0] = static_cast<T>(total / static_cast<MeanSum<T>>(n));
}

template <typename T>
void nllLossGrad(dpcrt_context *ctx, T *dinput, const T *dloss,
                 const int64_t *labels, int64_t n, int64_t c) {
  std::fill(dinput, dinput + n * c, T(0));
  T g = -(dloss[0] / static_cast<T>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "nll_loss_grad", labels[i], i, c)) {
      std::fill(dinput, dinput + n * c, NAN);
      return;
    }
    dinput[i * c + labels[i]] = g;
  }
}

} // namespace

namespace dpc::cpu {

void cross_entropy_f32(dpcrt_context *ctx, float *loss, const float *logits,
                       const int64_t *labels, int64_t n, int64_t c) {
  crossEntropy(ctx, loss, logits, labels, n, c);
}

void cross_entropy_grad_f32(dpcrt_context *ctx, float *dlogits,
                            const float *dloss, const float *logits,
                            const int64_t *labels, int64_t n, int64_t c) {
  crossEntropyGrad(ctx, dlogits, dloss, logits, labels, n, c);
}

void mse_loss_f32(dpcrt_context *, float *loss, const float *pred,
                  const float *target, int64_t n) {
  mseLoss(loss, pred, target, n);
}

void mse_loss_grad_f32(dpcrt_context *, float *dpred, const float *dloss,
                       const float *pred, const float *target, int64_t n) {
  mseLossGrad(dpred, dloss, pred, target, n);
}

void nll_loss_f32(dpcrt_context *ctx, float *loss, const float *input,
                  const int64_t *labels, int64_t n, int64_t c) {
  nllLoss(ctx, loss, input, labels, n, c);
}

void nll_loss_grad_f32(dpcrt_context *ctx, float *dinput, const float *dloss,
                       const int64_t *labels, int64_t n, int64_t c) {
  nllLossGrad(ctx, dinput, dloss, labels, n, c);
}

void cross_entropy_f64(dpcrt_context *ctx, double *loss, const double *logits,
                       const int64_t *labels, int64_t n, int64_t c) {
  crossEntropy(ctx, loss, logits, labels, n, c);
}

void cross_entropy_grad_f64(dpcrt_context *ctx, double *dlogits,
                            const double *dloss, const double *logits,
                            const int64_t *labels, int64_t n, int64_t c) {
  crossEntropyGrad(ctx, dlogits, dloss, logits, labels, n, c);
}

void mse_loss_f64(dpcrt_context *, double *loss, const double *pred,
                  const double *target, int64_t n) {
  mseLoss(loss, pred, target, n);
}

void mse_loss_grad_f64(dpcrt_context *, double *dpred, const double *dloss,
                       const double *pred, const double *target, int64_t n) {
  mseLossGrad(dpred, dloss, pred, target, n);
}

void nll_loss_f64(dpcrt_context *ctx, double *loss, const double *input,
                  const int64_t *labels, int64_t n, int64_t c) {
  nllLoss(ctx, loss, input, labels, n, c);
}

void nll_loss_grad_f64(dpcrt_context *ctx, double *dinput, const double *dloss,
                       const int64_t *labels, int64_t n, int64_t c) {
  nllLossGrad(ctx, dinput, dloss, labels, n, c);
}

} // namespace dpc::cpu
