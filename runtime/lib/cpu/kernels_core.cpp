//===- kernels_core.cpp - CPU backend of the dpcrt_* kernels --------------===//
//
// GEMMs go to OpenBLAS; everything else is a plain loop. The arithmetic
// follows PyTorch's CPU kernels operation by operation (same formulas, same
// order of float operations where it matters) so that a compiled training run
// tracks torch.optim to float32 rounding. Sums accumulate in double: that is
// at least as accurate as torch's vectorized float sums and independent of
// vector width.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/dnnl_eltwise.h"
#include "kernel_shared.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using dpc::recordError;

void dpc::cpu::setThreads(int threads) { openblas_set_num_threads(threads); }

namespace {

// One loop per kind, with the kind's formula (kernel_shared.h) folded in.
template <int32_t Kind> void unaryLoop(float *out, const float *in, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = dpc::applyUnary(Kind, in[i]);
}

// Both loads are unconditional (arguments), so that ReLU's select vectorizes
// (a load under the condition kept it a mispredicted branch per element).
template <int32_t Kind>
void unaryGradLoop(float *dx, const float *dy, const float *saved, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    dx[i] = dpc::applyUnaryGrad(Kind, dy[i], saved[i]);
}

} // namespace

namespace dpc::cpu {

void fill_f32(dpcrt_context *, float *out, int64_t n, float value) {
  std::fill(out, out + std::max<int64_t>(n, 0), value);
}

void copy(dpcrt_context *, void *out, const void *in, int64_t bytes) {
  if (bytes > 0 && out != in)
    std::memmove(out, in, static_cast<size_t>(bytes));
}

void gemm_f32(dpcrt_context *ctx, float *c, const float *a, const float *b,
              int64_t m, int64_t n, int64_t k, int32_t transA, int32_t transB,
              float beta) {
  if (m < 0 || n < 0 || k < 0 || m > INT_MAX || n > INT_MAX || k > INT_MAX) {
    recordError(ctx, "gemm: sizes m=" + std::to_string(m) +
                         " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                         " are out of BLAS's int range");
    return;
  }
  if (m == 0 || n == 0)
    return;
  // BLAS rejects leading dimensions below 1 even for empty operands.
  int lda = static_cast<int>(std::max<int64_t>(1, transA ? m : k));
  int ldb = static_cast<int>(std::max<int64_t>(1, transB ? k : n));
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
              transB ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, lda, b, ldb,
              beta, c, static_cast<int>(n));
}

void broadcast_rows_f32(dpcrt_context *, float *out, const float *bias,
                        int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i)
    std::memcpy(out + i * cols, bias,
                static_cast<size_t>(cols) * sizeof(float));
}

void scale_f32(dpcrt_context *, float *out, const float *in, int64_t n,
               float factor) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = in[i] * factor;
}

void transpose2d_f32(dpcrt_context *, float *out, const float *in, int64_t rows,
                     int64_t cols) {
  // Blocked so that both sides stay in cache for large matrices.
  constexpr int64_t kBlock = 32;
  for (int64_t i0 = 0; i0 < rows; i0 += kBlock)
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock)
      for (int64_t i = i0, ie = std::min(rows, i0 + kBlock); i < ie; ++i)
        for (int64_t j = j0, je = std::min(cols, j0 + kBlock); j < je; ++j)
          out[j * rows + i] = in[i * cols + j];
}

void unary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
               int64_t n) {
  switch (kind) {
#define DPC_UNARY_KIND(NAME, VALUE)                                            \
  case DPCRT_UNARY_##NAME:                                                     \
    return unaryLoop<DPCRT_UNARY_##NAME>(out, in, n);
#include "dpc/unary_kinds.def"
  }
  recordError(ctx, "unary: unknown kind " + std::to_string(kind));
}

void unary_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx,
                    const float *dy, const float *saved, int64_t n) {
  switch (kind) {
#define DPC_UNARY_KIND(NAME, VALUE)                                            \
  case DPCRT_UNARY_##NAME:                                                     \
    return unaryGradLoop<DPCRT_UNARY_##NAME>(dx, dy, saved, n);
#include "dpc/unary_kinds.def"
  }
  recordError(ctx, "unary_grad: unknown kind " + std::to_string(kind));
}

} // namespace dpc::cpu

namespace {

/// Applies `op` over a broadcast iteration space, innermost dimension in a
/// tight loop, outer dimensions by an odometer.
template <typename Op>
void broadcastLoop(float *out, const float *a, const float *b, int32_t rank,
                   const int64_t *dims, Op op) {
  if (rank == 0) {
    out[0] = op(a[0], b[0]);
    return;
  }
  const int64_t *shape = dims;
  const int64_t *strideA = dims + rank;
  const int64_t *strideB = dims + 2 * rank;
  for (int32_t d = 0; d < rank; ++d)
    if (shape[d] <= 0)
      return;
  int64_t inner = shape[rank - 1];
  int64_t innerA = strideA[rank - 1], innerB = strideB[rank - 1];
  std::vector<int64_t> index(rank, 0);
  int64_t offA = 0, offB = 0;
  for (float *o = out;; o += inner) {
    for (int64_t j = 0; j < inner; ++j)
      o[j] = op(a[offA + j * innerA], b[offB + j * innerB]);
    int32_t d = rank - 2;
    for (; d >= 0; --d) {
      offA += strideA[d];
      offB += strideB[d];
      if (++index[d] < shape[d])
        break;
      offA -= strideA[d] * shape[d];
      offB -= strideB[d] * shape[d];
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}

template <int32_t Kind>
void binaryLoop(float *out, const float *a, const float *b, int32_t rank,
                const int64_t *dims, float alpha) {
  broadcastLoop(out, a, b, rank, dims, [alpha](float x, float y) {
    return dpc::applyBinary(Kind, x, y, alpha);
  });
}

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

void binary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                const float *b, int32_t rank, const int64_t *dims,
                float alpha) {
  if (rank < 0) {
    recordError(ctx, "binary: negative rank " + std::to_string(rank));
    return;
  }
  switch (kind) {
  case DPCRT_BINARY_ADD:
    return binaryLoop<DPCRT_BINARY_ADD>(out, a, b, rank, dims, alpha);
  case DPCRT_BINARY_SUB:
    return binaryLoop<DPCRT_BINARY_SUB>(out, a, b, rank, dims, alpha);
  case DPCRT_BINARY_MUL:
    return binaryLoop<DPCRT_BINARY_MUL>(out, a, b, rank, dims, alpha);
  case DPCRT_BINARY_DIV:
    return binaryLoop<DPCRT_BINARY_DIV>(out, a, b, rank, dims, alpha);
  }
  recordError(ctx, "binary: unknown kind " + std::to_string(kind));
}

void reduce_sum_f32(dpcrt_context *ctx, float *out, const float *in,
                    int32_t rank, const int64_t *dims, int64_t outN) {
  if (rank < 0 || outN < 0) {
    recordError(ctx, "reduce_sum: negative rank or output size");
    return;
  }
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const int64_t *shape = dims;
  const int64_t *outStride = dims + rank;
  std::vector<double> acc(static_cast<size_t>(outN), 0.0);
  bool empty = false;
  for (int32_t d = 0; d < rank; ++d)
    empty |= shape[d] <= 0;
  if (!empty) {
    int64_t inner = shape[rank - 1], innerStride = outStride[rank - 1];
    std::vector<int64_t> index(rank, 0);
    int64_t outOff = 0;
    for (const float *i = in;; i += inner) {
      for (int64_t j = 0; j < inner; ++j)
        acc[outOff + j * innerStride] += i[j];
      int32_t d = rank - 2;
      for (; d >= 0; --d) {
        outOff += outStride[d];
        if (++index[d] < shape[d])
          break;
        outOff -= outStride[d] * shape[d];
        index[d] = 0;
      }
      if (d < 0)
        break;
    }
  }
  for (int64_t i = 0; i < outN; ++i)
    out[i] = static_cast<float>(acc[i]);
}

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

void sgd_update_f32(dpcrt_context *ctx, float *param, float *momentumBuf,
                    const float *grad, int64_t n, float lr, float momentum,
                    float dampening, float weightDecay, int32_t nesterov) {
  if (momentum != 0.0f && !momentumBuf) {
    recordError(ctx, "sgd_update: momentum is " + std::to_string(momentum) +
                         " but no momentum buffer was passed");
    return;
  }
  SgdConstants c = sgdConstants(lr, momentum, dampening, weightDecay,
                                nesterov != 0, !ctx || ctx->step == 0);
  for (int64_t i = 0; i < n; ++i)
    sgdStep(param, momentumBuf, grad, i, c);
}

} // namespace dpc::cpu
