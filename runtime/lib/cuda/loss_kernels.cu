//===- loss_kernels.cu - CUDA kernels of the losses -----------------------===//
//
// The CUDA counterparts of cpu/loss_kernels.cpp: cross_entropy, mse_loss
// and nll_loss with their gradients, float32 and float64. The means the CPU
// accumulates in double (float64: long double) are deterministic tree
// reductions in double here; labels out of range are reported through the
// context's device error record, never by synchronizing.
//
// Like the CPU kernels (-ffp-contract=off), this file must be compiled with
// -fmad=false and without --use_fast_math: fused multiply-adds appear only
// where written (__fmaf_rn, where the CPU calls std::fma), and division and
// sqrt are IEEE-rounded.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

#include <algorithm>
#include <cmath>

namespace dpc::cuda {
namespace {

// Every kernel is a template on the element type T: float for the _f32
// entry points, double for the _f64 ones (expOf and logOf are expf and
// logf for float, exp and log for double: kernel_shared.h).

/// max + log(sum(exp(x - max))) of row `row` by one block, as the CPU's
/// logSoftmaxShift (NaN wins the maximum; the exponentials, in T, are
/// summed in double).
template <typename T>
__device__ T blockLogSoftmaxShift(const T *row, int64_t c, double *shared) {
  __shared__ T maxShared[kThreads];
  T m = -INFINITY;
  bool nan = false;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
    T x = row[j];
    nan |= isnan(x);
    m = x > m ? x : m;
  }
  maxShared[threadIdx.x] = nan ? NAN : m;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      T other = maxShared[threadIdx.x + half];
      T mine = maxShared[threadIdx.x];
      maxShared[threadIdx.x] =
          isnan(mine) || isnan(other) ? NAN : (other > mine ? other : mine);
    }
    __syncthreads();
  }
  T max = maxShared[0];
  __syncthreads();
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    sum += expOf(row[j] - max);
  sum = blockSum(sum, shared);
  return max + logOf(static_cast<T>(sum));
}

/// Per row of logits: the row's loss term -(x[label] - shift) into
/// terms[i] (forward) and the shift into shifts[i] (gradient).
template <typename T>
__global__ void crossEntropyRowsKernel(T *terms, T *shifts, const T *logits,
                                       const int64_t *labels, int64_t n,
                                       int64_t c, DeviceError *error,
                                       int32_t errorKind) {
  __shared__ double shared[kThreads];
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const T *row = logits + i * c;
    T shift = blockLogSoftmaxShift(row, c, shared);
    if (threadIdx.x == 0) {
      int64_t label = labels[i];
      bool valid = label >= 0 && label < c;
      if (!valid)
        reportDeviceError(error, errorKind, label, i, c);
      if (terms)
        terms[i] = valid ? -(row[label] - shift) : NAN;
      if (shifts)
        shifts[i] = valid ? shift : NAN;
    }
  }
}

/// loss[0] = T(sum of the T terms in double / n), one block.
template <typename T>
__global__ void meanOfTermsKernel(T *loss, const T *terms, int64_t n) {
  __shared__ double shared[kThreads];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    sum += terms[i];
  sum = blockSum(sum, shared);
  if (threadIdx.x == 0)
    loss[0] = static_cast<T>(sum / static_cast<double>(n));
}

template <typename T>
__global__ void crossEntropyGradKernel(T *dlogits, const T *dloss,
                                       const T *logits, const int64_t *labels,
                                       const T *shifts, int64_t n, int64_t c) {
  // nll_loss_backward puts g = -dloss / n at the label; log_softmax_backward
  // then gives g * onehot - exp(log_softmax) * g.
  T g = -(dloss[0] / static_cast<T>(n));
  DPC_GRID_STRIDE(e, n * c) {
    int64_t i = e / c, j = e % c;
    T gj = j == labels[i] ? g : T(0);
    dlogits[e] = gj - expOf(logits[e] - shifts[i]) * g;
  }
}

template <typename T>
__global__ void mseKernel(T *loss, const T *pred, const T *target, int64_t n) {
  __shared__ double shared[kThreads];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    T d = pred[i] - target[i];
    T square = d * d; // in T, as the CPU's d * d
    sum += square;
  }
  sum = blockSum(sum, shared);
  if (threadIdx.x == 0)
    loss[0] = static_cast<T>(sum / static_cast<double>(n));
}

template <typename T>
__global__ void mseGradKernel(T *dpred, const T *dloss, const T *pred,
                              const T *target, int64_t n, T norm) {
  T g = dloss[0];
  DPC_GRID_STRIDE(i, n) dpred[i] = (pred[i] - target[i]) * norm * g;
}

/// One block: the mean of -input[i, labels[i]], a double tree sum.
template <typename T>
__global__ void nllLossKernel(T *loss, const T *input, const int64_t *labels,
                              int64_t n, int64_t c) {
  __shared__ double shared[kBlock];
  double total = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kBlock) {
    int64_t label = labels[i];
    total -= label < 0 || label >= c ? NAN : input[i * c + label];
  }
  total = blockSum(total, shared);
  if (threadIdx.x == 0)
    loss[0] = static_cast<T>(total / static_cast<double>(n));
}

template <typename T>
__global__ void nllLossGradKernel(T *dinput, const T *dloss,
                                  const int64_t *labels, int64_t n, int64_t c) {
  T g = -(dloss[0] / static_cast<T>(n));
  DPC_GRID_STRIDE(i, n) {
    int64_t label = labels[i];
    if (label >= 0 && label < c)
      dinput[i * c + label] = g;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

namespace {

// The entry points for T float (_f32) and double (_f64); fill is fill_f32
// or fill_f64.

template <typename T>
void crossEntropy(dpcrt_context *ctx, T *loss, const T *logits,
                  const int64_t *labels, int64_t n, int64_t c,
                  void (*fill)(dpcrt_context *, T *, int64_t, T)) {
  if (n <= 0 || c <= 0) {
    // The CPU's mean over no samples: 0 / 0.
    fill(ctx, loss, 1, NAN);
    return;
  }
  auto *terms = static_cast<T *>(scratch(ctx, n * sizeof(T)));
  if (!terms)
    return;
  cudaStream_t stream = computeStream(ctx);
  crossEntropyRowsKernel<T><<<gridFor(n, 1), kThreads, 0, stream>>>(
      terms, nullptr, logits, labels, n, c, deviceError(ctx),
      kCrossEntropyLabel);
  if (launchFailed(ctx, "cross_entropy"))
    return;
  meanOfTermsKernel<T><<<1, kThreads, 0, stream>>>(loss, terms, n);
  launchFailed(ctx, "cross_entropy");
}

template <typename T>
void crossEntropyGrad(dpcrt_context *ctx, T *dlogits, const T *dloss,
                      const T *logits, const int64_t *labels, int64_t n,
                      int64_t c) {
  if (n <= 0 || c <= 0)
    return;
  auto *shifts = static_cast<T *>(scratch(ctx, n * sizeof(T)));
  if (!shifts)
    return;
  cudaStream_t stream = computeStream(ctx);
  crossEntropyRowsKernel<T><<<gridFor(n, 1), kThreads, 0, stream>>>(
      nullptr, shifts, logits, labels, n, c, deviceError(ctx),
      kCrossEntropyGradLabel);
  if (launchFailed(ctx, "cross_entropy_grad"))
    return;
  launch(ctx, "cross_entropy_grad", n * c, crossEntropyGradKernel<T>, dlogits,
         dloss, logits, labels, static_cast<const T *>(shifts), n, c);
}

template <typename T>
void nllLoss(dpcrt_context *ctx, T *loss, const T *input, const int64_t *labels,
             int64_t n, int64_t c) {
  checkRange(ctx, kNllLossLabel, "nll_loss", labels, n, c);
  nllLossKernel<T><<<1, kBlock, 0, computeStream(ctx)>>>(
      loss, input, labels, std::max<int64_t>(n, 0), c);
  launchFailed(ctx, "nll_loss");
}

template <typename T>
void nllLossGrad(dpcrt_context *ctx, T *dinput, const T *dloss,
                 const int64_t *labels, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0)
    return;
  checkRange(ctx, kNllLossGradLabel, "nll_loss_grad", labels, n, c);
  cudaStream_t stream = computeStream(ctx);
  if (failed(ctx,
             cudaMemsetAsync(dinput, 0, static_cast<size_t>(n * c) * sizeof(T),
                             stream),
             "nll_loss_grad: cudaMemsetAsync"))
    return;
  nllLossGradKernel<T>
      <<<gridFor(n), 256, 0, stream>>>(dinput, dloss, labels, n, c);
  launchFailed(ctx, "nll_loss_grad");
}

} // namespace

void cross_entropy_f32(dpcrt_context *ctx, float *loss, const float *logits,
                       const int64_t *labels, int64_t n, int64_t c) {
  crossEntropy(ctx, loss, logits, labels, n, c, fill_f32);
}

void cross_entropy_f64(dpcrt_context *ctx, double *loss, const double *logits,
                       const int64_t *labels, int64_t n, int64_t c) {
  crossEntropy(ctx, loss, logits, labels, n, c, fill_f64);
}

void cross_entropy_grad_f32(dpcrt_context *ctx, float *dlogits,
                            const float *dloss, const float *logits,
                            const int64_t *labels, int64_t n, int64_t c) {
  crossEntropyGrad(ctx, dlogits, dloss, logits, labels, n, c);
}

void cross_entropy_grad_f64(dpcrt_context *ctx, double *dlogits,
                            const double *dloss, const double *logits,
                            const int64_t *labels, int64_t n, int64_t c) {
  crossEntropyGrad(ctx, dlogits, dloss, logits, labels, n, c);
}

void mse_loss_f32(dpcrt_context *ctx, float *loss, const float *pred,
                  const float *target, int64_t n) {
  mseKernel<float><<<1, kThreads, 0, computeStream(ctx)>>>(
      loss, pred, target, std::max<int64_t>(n, 0));
  launchFailed(ctx, "mse_loss");
}

void mse_loss_f64(dpcrt_context *ctx, double *loss, const double *pred,
                  const double *target, int64_t n) {
  mseKernel<double><<<1, kThreads, 0, computeStream(ctx)>>>(
      loss, pred, target, std::max<int64_t>(n, 0));
  launchFailed(ctx, "mse_loss");
}

void mse_loss_grad_f32(dpcrt_context *ctx, float *dpred, const float *dloss,
                       const float *pred, const float *target, int64_t n) {
  // mse_loss_backward: (pred - target) * (2 / n) * dloss, norm rounded to
  // float first as torch's scalar multiply does.
  float norm = static_cast<float>(2.0 / static_cast<double>(n));
  launch(ctx, "mse_loss_grad", n, mseGradKernel<float>, dpred, dloss, pred,
         target, n, norm);
}

void mse_loss_grad_f64(dpcrt_context *ctx, double *dpred, const double *dloss,
                       const double *pred, const double *target, int64_t n) {
  double norm = 2.0 / static_cast<double>(n);
  launch(ctx, "mse_loss_grad", n, mseGradKernel<double>, dpred, dloss, pred,
         target, n, norm);
}

void nll_loss_f32(dpcrt_context *ctx, float *loss, const float *input,
                  const int64_t *labels, int64_t n, int64_t c) {
  nllLoss(ctx, loss, input, labels, n, c);
}

void nll_loss_f64(dpcrt_context *ctx, double *loss, const double *input,
                  const int64_t *labels, int64_t n, int64_t c) {
  nllLoss(ctx, loss, input, labels, n, c);
}

void nll_loss_grad_f32(dpcrt_context *ctx, float *dinput, const float *dloss,
                       const int64_t *labels, int64_t n, int64_t c) {
  nllLossGrad(ctx, dinput, dloss, labels, n, c);
}

void nll_loss_grad_f64(dpcrt_context *ctx, double *dinput, const double *dloss,
                       const int64_t *labels, int64_t n, int64_t c) {
  nllLossGrad(ctx, dinput, dloss, labels, n, c);
}

} // namespace dpc::cuda
