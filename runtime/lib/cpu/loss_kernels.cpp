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

using dpc::recordError;

namespace {

/// Shift of a row's log-softmax, max + log(sum(exp(x - max))), computed as
/// torch's _vec_log_softmax_lastdim does, so log_softmax = x - shift.
float logSoftmaxShift(const float *row, int64_t c) {
  float max = row[0];
  for (int64_t j = 1; j < c; ++j)
    if (std::isnan(row[j]) || row[j] > max)
      max = row[j];
  double sum = 0.0;
  for (int64_t j = 0; j < c; ++j)
    sum += std::exp(row[j] - max);
  return max + std::log(static_cast<float>(sum));
}

/// logSoftmaxShift in double throughout, as torch's float64 log_softmax.
double logSoftmaxShift(const double *row, int64_t c) {
  double max = row[0];
  for (int64_t j = 1; j < c; ++j)
    if (std::isnan(row[j]) || row[j] > max)
      max = row[j];
  double sum = 0.0;
  for (int64_t j = 0; j < c; ++j)
    sum += std::exp(row[j] - max);
  return max + std::log(sum);
}

bool checkLabel(dpcrt_context *ctx, const char *kernel, int64_t label,
                int64_t sample, int64_t c) {
  if (label >= 0 && label < c)
    return true;
  recordError(ctx, std::string(kernel) + ": label " + std::to_string(label) +
                       " of sample " + std::to_string(sample) +
                       " is out of range [0, " + std::to_string(c) + ")");
  return false;
}

} // namespace

namespace dpc::cpu {

void cross_entropy_f32(dpcrt_context *ctx, float *loss, const float *logits,
                       const int64_t *labels, int64_t n, int64_t c) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "cross_entropy", labels[i], i, c)) {
      loss[0] = NAN;
      return;
    }
    const float *row = logits + i * c;
    total += -(row[labels[i]] - logSoftmaxShift(row, c));
  }
  // nll_loss's mean divides by the number of samples (total weight).
  loss[0] = static_cast<float>(total / static_cast<double>(n));
}

void cross_entropy_grad_f32(dpcrt_context *ctx, float *dlogits,
                            const float *dloss, const float *logits,
                            const int64_t *labels, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i)
    if (!checkLabel(ctx, "cross_entropy_grad", labels[i], i, c)) {
      std::fill(dlogits, dlogits + n * c, NAN);
      return;
    }
  // nll_loss_backward puts g = -dloss / n at the label; log_softmax_backward
  // then gives g * onehot - exp(log_softmax) * g, with exp(log_softmax) the
  // softmax, computed by oneDNN (vectorized exp) in place in dlogits. The
  // forward's log-softmax stays scalar: oneDNN's softmax_log is off by
  // 3.5e-6 (see dpcrt_softmax_f32).
  float g = -(dloss[0] / static_cast<float>(n));
  if (!dpc::dnnlSoftmax(ctx, "cross_entropy_grad", /*log=*/false,
                        /*backward=*/false, dlogits, logits, nullptr, n, c,
                        1)) {
    std::fill(dlogits, dlogits + n * c, NAN);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    float *drow = dlogits + i * c;
    int64_t label = labels[i];
    for (int64_t j = 0; j < c; ++j) {
      float gj = j == label ? g : 0.0f;
      drow[j] = gj - drow[j] * g;
    }
  }
}

void mse_loss_f32(dpcrt_context *, float *loss, const float *pred,
                  const float *target, int64_t n) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    float d = pred[i] - target[i];
    total += d * d;
  }
  loss[0] = static_cast<float>(total / static_cast<double>(n));
}

void mse_loss_grad_f32(dpcrt_context *, float *dpred, const float *dloss,
                       const float *pred, const float *target, int64_t n) {
  // mse_loss_backward: (pred - target) * (2 / n) * dloss, norm rounded to
  // float first as torch's scalar multiply does.
  float norm = static_cast<float>(2.0 / static_cast<double>(n));
  for (int64_t i = 0; i < n; ++i)
    dpred[i] = (pred[i] - target[i]) * norm * dloss[0];
}

void nll_loss_f32(dpcrt_context *ctx, float *loss, const float *input,
                  const int64_t *labels, int64_t n, int64_t c) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "nll_loss", labels[i], i, c)) {
      loss[0] = NAN;
      return;
    }
    total -= input[i * c + labels[i]];
  }
  loss[0] = static_cast<float>(total / static_cast<double>(n));
}

void nll_loss_grad_f32(dpcrt_context *ctx, float *dinput, const float *dloss,
                       const int64_t *labels, int64_t n, int64_t c) {
  std::fill(dinput, dinput + n * c, 0.0f);
  float g = -(dloss[0] / static_cast<float>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "nll_loss_grad", labels[i], i, c)) {
      std::fill(dinput, dinput + n * c, NAN);
      return;
    }
    dinput[i * c + labels[i]] = g;
  }
}

// float64: the same formulas in double. The means accumulate in long double,
// so that they stay within an ulp or two of the exact mean however many
// samples (as torch's float64 sums, which are cascaded).

void cross_entropy_f64(dpcrt_context *ctx, double *loss, const double *logits,
                       const int64_t *labels, int64_t n, int64_t c) {
  long double total = 0.0L;
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "cross_entropy", labels[i], i, c)) {
      loss[0] = NAN;
      return;
    }
    const double *row = logits + i * c;
    total += -(row[labels[i]] - logSoftmaxShift(row, c));
  }
  loss[0] = static_cast<double>(total / static_cast<long double>(n));
}

void cross_entropy_grad_f64(dpcrt_context *ctx, double *dlogits,
                            const double *dloss, const double *logits,
                            const int64_t *labels, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i)
    if (!checkLabel(ctx, "cross_entropy_grad", labels[i], i, c)) {
      std::fill(dlogits, dlogits + n * c, NAN);
      return;
    }
  // g * onehot - exp(log_softmax) * g with g = -dloss / n, as the float32
  // kernel; the softmax is exp(x - shift) of the forward's log-softmax.
  double g = -(dloss[0] / static_cast<double>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double *row = logits + i * c;
    double *drow = dlogits + i * c;
    double shift = logSoftmaxShift(row, c);
    int64_t label = labels[i];
    for (int64_t j = 0; j < c; ++j) {
      double gj = j == label ? g : 0.0;
      drow[j] = gj - std::exp(row[j] - shift) * g;
    }
  }
}

void mse_loss_f64(dpcrt_context *, double *loss, const double *pred,
                  const double *target, int64_t n) {
  long double total = 0.0L;
  for (int64_t i = 0; i < n; ++i) {
    double d = pred[i] - target[i];
    total += d * d; // the square in double, as torch's
  }
  loss[0] = static_cast<double>(total / static_cast<long double>(n));
}

void mse_loss_grad_f64(dpcrt_context *, double *dpred, const double *dloss,
                       const double *pred, const double *target, int64_t n) {
  // mse_loss_backward: (pred - target) * (2 / n) * dloss.
  double norm = 2.0 / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i)
    dpred[i] = (pred[i] - target[i]) * norm * dloss[0];
}

void nll_loss_f64(dpcrt_context *ctx, double *loss, const double *input,
                  const int64_t *labels, int64_t n, int64_t c) {
  long double total = 0.0L;
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "nll_loss", labels[i], i, c)) {
      loss[0] = NAN;
      return;
    }
    total -= input[i * c + labels[i]];
  }
  loss[0] = static_cast<double>(total / static_cast<long double>(n));
}

void nll_loss_grad_f64(dpcrt_context *ctx, double *dinput, const double *dloss,
                       const int64_t *labels, int64_t n, int64_t c) {
  std::fill(dinput, dinput + n * c, 0.0);
  double g = -(dloss[0] / static_cast<double>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "nll_loss_grad", labels[i], i, c)) {
      std::fill(dinput, dinput + n * c, NAN);
      return;
    }
    dinput[i * c + labels[i]] = g;
  }
}

} // namespace dpc::cpu
