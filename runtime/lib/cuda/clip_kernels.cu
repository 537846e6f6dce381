//===- clip_kernels.cu - CUDA backend of gradient clipping ----------------===//
//
// clip_grad_norm_ and clip_grad_value_ on the device, with the CPU
// kernels' arithmetic (kernel_shared.h): each gradient's p-norm term sum in
// double by one block (its own slot of scratch memory), then one thread
// combines them into the float32 total norm and coefficient, and every
// gradient is scaled by the coefficient read from device memory, so the
// host never waits for the device.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cuda_backend.h"
#include "device_utils.cuh"
#include "kernel_shared.h"

#include <cmath>
#include <string>

namespace dpc::cuda {

namespace {

constexpr int kThreads = 256;

/// terms[index] = the sum of the p-norm terms of grad (p finite), or its
/// largest |g| (p = inf; NaN if any is NaN).
__global__ void gradNormTermsKernel(double *terms, int32_t index,
                                    const float *grad, int64_t n, double p,
                                    bool infNorm) {
  __shared__ double shared[kThreads];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    if (infNorm) {
      double a = fabs(static_cast<double>(grad[i]));
      acc = isnan(a) || isnan(acc) ? NAN : fmax(acc, a);
    } else {
      acc += gradNormTerm(grad[i], p);
    }
  }
  if (!infNorm) {
    acc = blockSum(acc, shared);
  } else {
    shared[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) {
        double a = shared[threadIdx.x], b = shared[threadIdx.x + half];
        shared[threadIdx.x] = isnan(a) || isnan(b) ? NAN : fmax(a, b);
      }
      __syncthreads();
    }
    acc = shared[0];
  }
  if (threadIdx.x == 0)
    terms[index] = acc;
}

/// coef[0] = clip_grad_norm_'s coefficient from the per-gradient terms.
__global__ void clipCoefficientKernel(float *coef, const double *terms,
                                      int32_t count, double p, bool infNorm,
                                      double maxNorm) {
  float total = 0.0f;
  double totalTerms = 0.0;
  for (int32_t i = 0; i < count; ++i) {
    if (infNorm) {
      float norm = static_cast<float>(terms[i]);
      total = isnan(norm) || isnan(total) ? NAN : fmaxf(total, norm);
    } else {
      totalTerms += gradNormTerm(finishGradNorm(terms[i], p), p);
    }
  }
  if (!infNorm)
    total = finishGradNorm(totalTerms, p);
  coef[0] = clipGradNormCoefficient(total, maxNorm);
}

__global__ void scaleByKernel(float *grad, int64_t n, const float *coef) {
  float c = coef[0];
  DPC_GRID_STRIDE(i, n) grad[i] = grad[i] * c;
}

__global__ void clipValueKernel(float *grad, int64_t n, float bound) {
  DPC_GRID_STRIDE(i, n) grad[i] = clipGradValue(grad[i], bound);
}

} // namespace

void clip_grad_norm_f32(dpcrt_context *ctx, float *const *grads,
                        const int64_t *sizes, int32_t count, double max_norm,
                        double norm_type) {
  if (count <= 0 || !grads || !sizes) {
    recordError(ctx, "clip_grad_norm: no gradients");
    return;
  }
  if (!(norm_type > 0.0)) {
    recordError(ctx, "clip_grad_norm: norm_type " + std::to_string(norm_type) +
                         " is not positive");
    return;
  }
  bool infNorm = std::isinf(norm_type);
  // count doubles of terms, then the coefficient.
  size_t termBytes = static_cast<size_t>(count) * sizeof(double);
  auto *memory = static_cast<char *>(scratch(ctx, termBytes + sizeof(float)));
  if (!memory)
    return;
  auto *terms = reinterpret_cast<double *>(memory);
  auto *coef = reinterpret_cast<float *>(memory + termBytes);
  cudaStream_t stream = computeStream(ctx);
  // grads and sizes are host arrays (the compiled step's).
  for (int32_t i = 0; i < count; ++i) {
    gradNormTermsKernel<<<1, kThreads, 0, stream>>>(
        terms, i, grads[i], sizes[i], norm_type, infNorm);
    if (launchFailed(ctx, "clip_grad_norm"))
      return;
  }
  clipCoefficientKernel<<<1, 1, 0, stream>>>(coef, terms, count, norm_type,
                                             infNorm, max_norm);
  if (launchFailed(ctx, "clip_grad_norm"))
    return;
  for (int32_t i = 0; i < count; ++i) {
    if (sizes[i] <= 0)
      continue;
    scaleByKernel<<<gridFor(sizes[i], kThreads), kThreads, 0, stream>>>(
        grads[i], sizes[i], coef);
    if (launchFailed(ctx, "clip_grad_norm"))
      return;
  }
}

void clip_grad_value_f32(dpcrt_context *ctx, float *grad, int64_t n,
                         double clip_value) {
  if (n <= 0)
    return;
  clipValueKernel<<<gridFor(n, kThreads), kThreads, 0, computeStream(ctx)>>>(
      grad, n, static_cast<float>(clip_value));
  launchFailed(ctx, "clip_grad_value");
}

} // namespace dpc::cuda
