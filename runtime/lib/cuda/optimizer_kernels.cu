//===- optimizer_kernels.cu - CUDA kernels of the optimizer updates -------===//
//
// SGD and Adam element by element with the CPU kernels' arithmetic
// (kernel_shared.h) and constants, which the host computes from the step
// counter. With -fmad=false the only fused multiply-adds are those
// kernel_shared.h writes (__fmaf_rn where the CPU calls std::fma), and
// IEEE division and square root are nvcc's defaults, so the updates agree
// with the CPU bitwise (the float64 ones too: same formulas in double).
//
// Like the CPU kernels (-ffp-contract=off), this file must be compiled with
// -fmad=false and without --use_fast_math: fused multiply-adds appear only
// where written (__fmaf_rn, where the CPU calls std::fma), and division and
// sqrt are IEEE-rounded.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

#include "core/context.h"
#include "kernel_shared.h"
#include <cmath>
#include <string>

namespace dpc::cuda {
namespace {

// Element by element the CPU's update (kernel_shared.h).
/// Adds one thread's share of a gradient's squares to *sum (the step's
/// gradient norm, DeviceState::gradientSquares): a block reduction, then
/// one atomic add per block. Every thread of the block must call it.
__device__ void addSquares(double *sum, double threadSquares) {
  __shared__ double shared[kThreads];
  double blockSquares = blockSum(threadSquares, shared);
  if (threadIdx.x == 0)
    atomicAdd(sum, blockSquares);
}

__device__ double square(float g) {
  return static_cast<double>(g) * static_cast<double>(g);
}

__device__ double square(double g) { return g * g; }

// T is float (the _f32 updates) or double (_f64).
template <typename T>
__global__ void sgdKernel(T *param, T *momentumBuf, const T *grad, int64_t n,
                          SgdConstantsOf<T> c, double *squares) {
  double threadSquares = 0.0;
  DPC_GRID_STRIDE(i, n) {
    threadSquares += square(grad[i]);
    sgdStep(param, momentumBuf, grad, i, c);
  }
  addSquares(squares, threadSquares);
}

template <typename T>
__global__ void adamKernel(T *param, T *expAvg, T *expAvgSq, const T *grad,
                           int64_t n, AdamConstantsOf<T> c, double *squares) {
  double threadSquares = 0.0;
  DPC_GRID_STRIDE(i, n) {
    threadSquares += square(grad[i]);
    adamStep(param, expAvg, expAvgSq, grad, i, c);
  }
  addSquares(squares, threadSquares);
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

namespace {

/// sgd_update_f32 and sgd_update_f64: the hyper-parameters come in the
/// tensors' type T (torch.optim.SGD's float64 path keeps them doubles).
template <typename T>
void sgdUpdate(dpcrt_context *ctx, T *param, T *momentum_buf, const T *grad,
               int64_t n, T lr, T momentum, T dampening, T weight_decay,
               int32_t nesterov) {
  // GradScaler found an inf or NaN (the host knows: unscale_grads_f32
  // read the flag back): scaler.step skips optimizer.step.
  if (ctx->gradScaler.foundInf)
    return;
  if (momentum != T(0) && !momentum_buf) {
    recordError(ctx, "sgd_update: momentum is " + std::to_string(momentum) +
                         " but no momentum buffer was passed");
    return;
  }
  // The step counter lives on the host: the first optimizer step (0)
  // initializes the momentum buffer. The CPU kernel's constants
  // (kernel_shared.h).
  SgdConstantsOf<T> c = sgdConstants(lr, momentum, dampening, weight_decay,
                                     nesterov != 0, ctx->optimizerSteps() == 0);
  launch(ctx, "sgd_update", n, sgdKernel<T>, param, momentum_buf, grad, n, c,
         gradientSquares(ctx) + 1);
}

/// adam_update_f32 and adam_update_f64: the CPU kernel's constants
/// (kernel_shared.h), rounded to float32 as torch rounds them or kept
/// doubles.
template <typename T>
void adamUpdate(dpcrt_context *ctx, T *param, T *exp_avg, T *exp_avg_sq,
                const T *grad, int64_t n, double lr, double beta1, double beta2,
                double eps, double weight_decay,
                int32_t decoupled_weight_decay) {
  if (!exp_avg || !exp_avg_sq) {
    recordError(ctx, "adam_update: the exp_avg and exp_avg_sq buffers are "
                     "required");
    return;
  }
  if (n <= 0 || ctx->gradScaler.foundInf)
    return;
  AdamConstantsOf<T> c =
      adamConstantsOf<T>(lr, beta1, beta2, eps, weight_decay,
                         decoupled_weight_decay != 0, ctx->optimizerSteps());
  launch(ctx, "adam_update", n, adamKernel<T>, param, exp_avg, exp_avg_sq, grad,
         n, c, gradientSquares(ctx) + 1);
}

} // namespace

void sgd_update_f32(dpcrt_context *ctx, float *param, float *momentum_buf,
                    const float *grad, int64_t n, float lr, float momentum,
                    float dampening, float weight_decay, int32_t nesterov) {
  sgdUpdate(ctx, param, momentum_buf, grad, n, lr, momentum, dampening,
            weight_decay, nesterov);
}

void sgd_update_f64(dpcrt_context *ctx, double *param, double *momentum_buf,
                    const double *grad, int64_t n, double lr, double momentum,
                    double dampening, double weight_decay, int32_t nesterov) {
  sgdUpdate(ctx, param, momentum_buf, grad, n, lr, momentum, dampening,
            weight_decay, nesterov);
}

void adam_update_f32(dpcrt_context *ctx, float *param, float *exp_avg,
                     float *exp_avg_sq, const float *grad, int64_t n, double lr,
                     double beta1, double beta2, double eps,
                     double weight_decay, int32_t decoupled_weight_decay) {
  adamUpdate(ctx, param, exp_avg, exp_avg_sq, grad, n, lr, beta1, beta2, eps,
             weight_decay, decoupled_weight_decay);
}

void adam_update_f64(dpcrt_context *ctx, double *param, double *exp_avg,
                     double *exp_avg_sq, const double *grad, int64_t n,
                     double lr, double beta1, double beta2, double eps,
                     double weight_decay, int32_t decoupled_weight_decay) {
  adamUpdate(ctx, param, exp_avg, exp_avg_sq, grad, n, lr, beta1, beta2, eps,
             weight_decay, decoupled_weight_decay);
}

} // namespace dpc::cuda

//===----------------------------------------------------------------------===//
// Gradient clipping
//===----------------------------------------------------------------------===//
//
// clip_grad_norm_ and clip_grad_value_ on the device, with the CPU
// kernels' arithmetic (kernel_shared.h): each gradient's p-norm term sum in
// double by one block (its own slot of scratch memory), then one thread
// combines them into the float32 total norm and coefficient, and every
// gradient is scaled by the coefficient read from device memory, so the
// host never waits for the device.

namespace dpc::cuda {

namespace {

/// fmax of the element type.
__device__ inline float maxOf(float a, float b) { return fmaxf(a, b); }
__device__ inline double maxOf(double a, double b) { return fmax(a, b); }

// T is float (clip_grad_norm_f32) or double (_f64).

/// terms[index] = the sum of the p-norm terms of grad (p finite), or its
/// largest |g| (p = inf; NaN if any is NaN).
template <typename T>
__global__ void gradNormTermsKernel(double *terms, int32_t index, const T *grad,
                                    int64_t n, double p, bool infNorm) {
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
template <typename T>
__global__ void clipCoefficientKernel(T *coef, const double *terms,
                                      int32_t count, double p, bool infNorm,
                                      double maxNorm) {
  T total = T(0);
  double totalTerms = 0.0;
  for (int32_t i = 0; i < count; ++i) {
    if (infNorm) {
      T norm = static_cast<T>(terms[i]);
      total = isnan(norm) || isnan(total) ? NAN : maxOf(total, norm);
    } else {
      totalTerms += gradNormTerm(finishGradNorm<T>(terms[i], p), p);
    }
  }
  if (!infNorm)
    total = finishGradNorm<T>(totalTerms, p);
  coef[0] = clipGradNormCoefficient(total, maxNorm);
}

/// The squares of a gradient before it is clipped, for the step's gradient
/// norm (DeviceState::gradientSquares[0]).
template <typename T>
__global__ void squaresKernel(double *sum, const T *grad, int64_t n) {
  double threadSquares = 0.0;
  DPC_GRID_STRIDE(i, n) threadSquares += square(grad[i]);
  addSquares(sum, threadSquares);
}

template <typename T>
__global__ void scaleByKernel(T *grad, int64_t n, const T *coef) {
  T c = coef[0];
  DPC_GRID_STRIDE(i, n) grad[i] = grad[i] * c;
}

__global__ void clipValueKernel(float *grad, int64_t n, float bound) {
  DPC_GRID_STRIDE(i, n) grad[i] = clipGradValue(grad[i], bound);
}

/// clip_grad_norm_ over T gradients (float32 or float64).
template <typename T>
void clipGradNorm(dpcrt_context *ctx, T *const *grads, const int64_t *sizes,
                  int32_t count, double max_norm, double norm_type) {
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
  auto *memory = static_cast<char *>(scratch(ctx, termBytes + sizeof(T)));
  if (!memory)
    return;
  auto *terms = reinterpret_cast<double *>(memory);
  auto *coef = reinterpret_cast<T *>(memory + termBytes);
  cudaStream_t stream = computeStream(ctx);
  ctx->gradientSquares.clipped = true;
  for (int32_t i = 0; i < count; ++i) {
    launch(ctx, "clip_grad_norm", sizes[i], squaresKernel<T>,
           gradientSquares(ctx), grads[i], sizes[i]);
    if (!ctx->error.empty())
      return;
  }
  // grads and sizes are host arrays (the compiled step's).
  for (int32_t i = 0; i < count; ++i) {
    gradNormTermsKernel<T><<<1, kThreads, 0, stream>>>(
        terms, i, grads[i], sizes[i], norm_type, infNorm);
    if (launchFailed(ctx, "clip_grad_norm"))
      return;
  }
  clipCoefficientKernel<T>
      <<<1, 1, 0, stream>>>(coef, terms, count, norm_type, infNorm, max_norm);
  if (launchFailed(ctx, "clip_grad_norm"))
    return;
  for (int32_t i = 0; i < count; ++i) {
    if (sizes[i] <= 0)
      continue;
    scaleByKernel<T><<<gridFor(sizes[i], kThreads), kThreads, 0, stream>>>(
        grads[i], sizes[i], coef);
    if (launchFailed(ctx, "clip_grad_norm"))
      return;
  }
}

} // namespace

void clip_grad_norm_f32(dpcrt_context *ctx, float *const *grads,
                        const int64_t *sizes, int32_t count, double max_norm,
                        double norm_type) {
  clipGradNorm(ctx, grads, sizes, count, max_norm, norm_type);
}

void clip_grad_norm_f64(dpcrt_context *ctx, double *const *grads,
                        const int64_t *sizes, int32_t count, double max_norm,
                        double norm_type) {
  clipGradNorm(ctx, grads, sizes, count, max_norm, norm_type);
}

void clip_grad_value_f32(dpcrt_context *ctx, float *grad, int64_t n,
                         double clip_value) {
  if (n <= 0)
    return;
  ctx->gradientSquares.clipped = true;
  launch(ctx, "clip_grad_value", n, squaresKernel<float>, gradientSquares(ctx),
         grad, n);
  clipValueKernel<<<gridFor(n, kThreads), kThreads, 0, computeStream(ctx)>>>(
      grad, n, static_cast<float>(clip_value));
  launchFailed(ctx, "clip_grad_value");
}

} // namespace dpc::cuda

//===----------------------------------------------------------------------===//
// Loss scaling (torch.amp.GradScaler)
//===----------------------------------------------------------------------===//
//
// The scale is host state (dpcrt_context::gradScaler); the unscale reads
// its found-inf flag back to the host before the updates, as
// GradScaler.step does (`found_inf.item()`), so that the skipped updates
// are not even launched.

namespace dpc::cuda {
namespace {

__global__ void unscaleKernel(float *grad, int64_t n, float invScale,
                              int *foundInf, double *squares) {
  double threadSquares = 0.0;
  DPC_GRID_STRIDE(i, n) {
    float g = grad[i];
    if (!isfinite(g))
      *foundInf = 1;
    g = invScale == 1.0f ? g : g * invScale;
    grad[i] = g;
    threadSquares += square(g);
  }
  addSquares(squares, threadSquares);
}

} // namespace

void loss_scale_f32(dpcrt_context *ctx, float *out, int64_t n) {
  fill_f32(ctx, out, n, ctx->gradScaler.scale);
}

void unscale_grads_f32(dpcrt_context *ctx, float *const *grads,
                       const int64_t *sizes, int32_t count) {
  if (count <= 0 || !grads || !sizes) {
    recordError(ctx, "unscale_grads: no gradients");
    return;
  }
  auto *foundInf = static_cast<int *>(scratch(ctx, sizeof(int)));
  if (!foundInf)
    return;
  cudaStream_t stream = computeStream(ctx);
  if (failed(ctx, cudaMemsetAsync(foundInf, 0, sizeof(int), stream),
             "clearing unscale_grads' inf flag"))
    return;
  float invScale = ctx->gradScaler.inverseScale();
  ctx->gradientSquares.unscaled = true;
  for (int32_t i = 0; i < count; ++i) {
    launch(ctx, "unscale_grads", sizes[i], unscaleKernel, grads[i], sizes[i],
           invScale, foundInf, gradientSquares(ctx) + 2);
    if (!ctx->error.empty())
      return;
  }
  int found = 0;
  if (failed(ctx,
             cudaMemcpyAsync(&found, foundInf, sizeof(int),
                             cudaMemcpyDeviceToHost, stream),
             "reading unscale_grads' inf flag") ||
      failed(ctx, cudaStreamSynchronize(stream),
             "waiting for unscale_grads' inf flag"))
    return;
  ctx->gradScaler.foundInf = ctx->gradScaler.foundInf || found != 0;
}

} // namespace dpc::cuda
