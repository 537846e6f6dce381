//===- loss_kernels.cu - CUDA kernels of the losses -----------------------===//
//
// The CUDA counterparts of cpu/loss_kernels.cpp: cross_entropy, mse_loss
// and nll_loss with their gradients. The means the CPU accumulates in
// double are deterministic tree reductions in double here; labels out of
// range are reported through the context's device error record, never by
// synchronizing.
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

/// max + log(sum(exp(x - max))) of row `row` by one block, as the CPU's
/// logSoftmaxShift (NaN wins the maximum; the exponentials, in float, are
/// summed in double).
__device__ float blockLogSoftmaxShift(const float *row, int64_t c,
                                      double *shared) {
  __shared__ float maxShared[kThreads];
  float m = -INFINITY;
  bool nan = false;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
    float x = row[j];
    nan |= isnan(x);
    m = x > m ? x : m;
  }
  maxShared[threadIdx.x] = nan ? NAN : m;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      float other = maxShared[threadIdx.x + half];
      float mine = maxShared[threadIdx.x];
      maxShared[threadIdx.x] =
          isnan(mine) || isnan(other) ? NAN : (other > mine ? other : mine);
    }
    __syncthreads();
  }
  float max = maxShared[0];
  __syncthreads();
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
    sum += expf(row[j] - max);
  sum = blockSum(sum, shared);
  return max + logf(static_cast<float>(sum));
}

/// Per row of logits: the row's loss term -(x[label] - shift) into
/// terms[i] (forward) and the shift into shifts[i] (gradient).
__global__ void crossEntropyRowsKernel(float *terms, float *shifts,
                                       const float *logits,
                                       const int64_t *labels, int64_t n,
                                       int64_t c, DeviceError *error,
                                       int32_t errorKind) {
  __shared__ double shared[kThreads];
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const float *row = logits + i * c;
    float shift = blockLogSoftmaxShift(row, c, shared);
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

/// loss[0] = float(sum of the float terms in double / n), one block.
__global__ void meanOfTermsKernel(float *loss, const float *terms, int64_t n) {
  __shared__ double shared[kThreads];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    sum += terms[i];
  sum = blockSum(sum, shared);
  if (threadIdx.x == 0)
    loss[0] = static_cast<float>(sum / static_cast<double>(n));
}

__global__ void crossEntropyGradKernel(float *dlogits, const float *dloss,
                                       const float *logits,
                                       const int64_t *labels,
                                       const float *shifts, int64_t n,
                                       int64_t c) {
  // nll_loss_backward puts g = -dloss / n at the label; log_softmax_backward
  // then gives g * onehot - exp(log_softmax) * g.
  float g = -(dloss[0] / static_cast<float>(n));
  DPC_GRID_STRIDE(e, n * c) {
    int64_t i = e / c, j = e % c;
    float gj = j == labels[i] ? g : 0.0f;
    dlogits[e] = gj - expf(logits[e] - shifts[i]) * g;
  }
}

__global__ void mseKernel(float *loss, const float *pred, const float *target,
                          int64_t n) {
  __shared__ double shared[kThreads];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    float d = pred[i] - target[i];
    float square = d * d; // in float, as the CPU's d * d
    sum += square;
  }
  sum = blockSum(sum, shared);
  if (threadIdx.x == 0)
    loss[0] = static_cast<float>(sum / static_cast<double>(n));
}

__global__ void mseGradKernel(float *dpred, const float *dloss,
                              const float *pred, const float *target, int64_t n,
                              float norm) {
  float g = dloss[0];
  DPC_GRID_STRIDE(i, n) dpred[i] = (pred[i] - target[i]) * norm * g;
}

/// One block: the mean of -input[i, labels[i]], a double tree sum.
__global__ void nllLossKernel(float *loss, const float *input,
                              const int64_t *labels, int64_t n, int64_t c) {
  __shared__ double shared[kBlock];
  double total = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kBlock) {
    int64_t label = labels[i];
    total -= label < 0 || label >= c ? NAN : input[i * c + label];
  }
  total = blockSum(total, shared);
  if (threadIdx.x == 0)
    loss[0] = static_cast<float>(total / static_cast<double>(n));
}

__global__ void nllLossGradKernel(float *dinput, const float *dloss,
                                  const int64_t *labels, int64_t n, int64_t c) {
  float g = -(dloss[0] / static_cast<float>(n));
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

void cross_entropy_f32(dpcrt_context *ctx, float *loss, const float *logits,
                       const int64_t *labels, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0) {
    // The CPU's mean over no samples: 0 / 0.
    fill_f32(ctx, loss, 1, NAN);
    return;
  }
  auto *terms = static_cast<float *>(scratch(ctx, n * sizeof(float)));
  if (!terms)
    return;
  cudaStream_t stream = computeStream(ctx);
  crossEntropyRowsKernel<<<gridFor(n, 1), kThreads, 0, stream>>>(
      terms, nullptr, logits, labels, n, c, deviceError(ctx),
      kCrossEntropyLabel);
  if (launchFailed(ctx, "cross_entropy"))
    return;
  meanOfTermsKernel<<<1, kThreads, 0, stream>>>(loss, terms, n);
  launchFailed(ctx, "cross_entropy");
}

void cross_entropy_grad_f32(dpcrt_context *ctx, float *dlogits,
                            const float *dloss, const float *logits,
                            const int64_t *labels, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0)
    return;
  auto *shifts = static_cast<float *>(scratch(ctx, n * sizeof(float)));
  if (!shifts)
    return;
  cudaStream_t stream = computeStream(ctx);
  crossEntropyRowsKernel<<<gridFor(n, 1), kThreads, 0, stream>>>(
      nullptr, shifts, logits, labels, n, c, deviceError(ctx),
      kCrossEntropyGradLabel);
  if (launchFailed(ctx, "cross_entropy_grad"))
    return;
  launch(ctx, "cross_entropy_grad", n * c, crossEntropyGradKernel, dlogits,
         dloss, logits, labels, static_cast<const float *>(shifts), n, c);
}

void mse_loss_f32(dpcrt_context *ctx, float *loss, const float *pred,
                  const float *target, int64_t n) {
  mseKernel<<<1, kThreads, 0, computeStream(ctx)>>>(loss, pred, target,
                                                    std::max<int64_t>(n, 0));
  launchFailed(ctx, "mse_loss");
}

void mse_loss_grad_f32(dpcrt_context *ctx, float *dpred, const float *dloss,
                       const float *pred, const float *target, int64_t n) {
  // mse_loss_backward: (pred - target) * (2 / n) * dloss, norm rounded to
  // float first as torch's scalar multiply does.
  float norm = static_cast<float>(2.0 / static_cast<double>(n));
  launch(ctx, "mse_loss_grad", n, mseGradKernel, dpred, dloss, pred, target, n,
         norm);
}

void nll_loss_f32(dpcrt_context *ctx, float *loss, const float *input,
                  const int64_t *labels, int64_t n, int64_t c) {
  checkRange(ctx, kNllLossLabel, "nll_loss", labels, n, c);
  nllLossKernel<<<1, kBlock, 0, computeStream(ctx)>>>(
      loss, input, labels, std::max<int64_t>(n, 0), c);
  launchFailed(ctx, "nll_loss");
}

void nll_loss_grad_f32(dpcrt_context *ctx, float *dinput, const float *dloss,
                       const int64_t *labels, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0)
    return;
  checkRange(ctx, kNllLossGradLabel, "nll_loss_grad", labels, n, c);
  cudaStream_t stream = computeStream(ctx);
  if (failed(ctx,
             cudaMemsetAsync(
                 dinput, 0, static_cast<size_t>(n * c) * sizeof(float), stream),
             "nll_loss_grad: cudaMemsetAsync"))
    return;
  nllLossGradKernel<<<gridFor(n), 256, 0, stream>>>(dinput, dloss, labels, n,
                                                    c);
  launchFailed(ctx, "nll_loss_grad");
}

} // namespace dpc::cuda
