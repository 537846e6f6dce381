//===- optimizer_kernels.cpp - CPU kernels of the optimizer updates -------===//
//
// SGD and Adam (AdamW) for one parameter, in place. The per-element
// arithmetic is kernel_shared.h's, shared with the CUDA kernels; it
// reproduces torch.optim's single-tensor path of torch 1.13 element by
// element, including where torch rounds a Python (double) hyper-parameter
// to float and where its AVX2 kernels fuse a multiply-add:
//
//   torch op (float32 tensors)               per element, as measured
//   a.add(b, alpha=s)                        fma(b, float(s), a)
//   a.mul_(s)                                a * float(s)
//   a.addcmul_(b, c, value=s)                fma(float(s) * b, c, a)
//   a.sqrt() / s                             sqrt(a) / float(s)
//   a.add_(s)                                a + float(s)
//   a.addcdiv_(b, c, value=s)                a + (float(s) * b) / c
//
// so that a compiled run tracks PyTorch to float32 rounding. This file is
// built with -ffp-contract=off: the fused multiply-adds are exactly the
// std::fma calls of kernel_shared.h, never the compiler's choice.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "kernel_shared.h"

#include <algorithm>
#include <cmath>
#include <string>

using dpc::recordError;

namespace {

/// The sum of the squares of a gradient's elements (float or double) in
/// double, for the step's gradient norm (context.h, GradientSquares). The
/// simd reduction reassociates the sum: it is reported, never trained on.
template <typename T>
__attribute__((target_clones("avx2", "default"))) double
sumOfSquares(const T *grad, int64_t n) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i)
    sum += static_cast<double>(grad[i]) * static_cast<double>(grad[i]);
  return sum;
}

/// The updates go through the gradient in blocks this long and sum each
/// block's squares right after updating it, while it is still in the L1
/// cache: the norm costs no second pass over memory.
constexpr int64_t kSquaresBlock = 2048;

// The loops are compiled twice, for CPUs with and without FMA instructions;
// the right clone is picked when libdpcrt is loaded. Both compute the same
// values (std::fma is exact either way), the FMA clone just does it in one
// instruction instead of a libm call. They return the gradient's sum of
// squares. T is float (the _f32 updates) or double (_f64: the same formulas
// in double).
template <typename T>
__attribute__((target_clones("fma", "default"))) double
sgdLoop(T *param, T *momentumBuf, const T *grad, int64_t n,
        dpc::SgdConstantsOf<T> c) {
  double squares = 0.0;
  for (int64_t begin = 0; begin < n; begin += kSquaresBlock) {
    int64_t end = std::min(n, begin + kSquaresBlock);
    for (int64_t i = begin; i < end; ++i)
      dpc::sgdStep(param, momentumBuf, grad, i, c);
    squares += sumOfSquares(grad + begin, end - begin);
  }
  return squares;
}

template <typename T>
__attribute__((target_clones("fma", "default"))) double
adamLoop(T *param, T *expAvg, T *expAvgSq, const T *grad, int64_t n,
         dpc::AdamConstantsOf<T> c) {
  double squares = 0.0;
  for (int64_t begin = 0; begin < n; begin += kSquaresBlock) {
    int64_t end = std::min(n, begin + kSquaresBlock);
    for (int64_t i = begin; i < end; ++i)
      dpc::adamStep(param, expAvg, expAvgSq, grad, i, c);
    squares += sumOfSquares(grad + begin, end - begin);
  }
  return squares;
}

/// sgd_update_f32 and sgd_update_f64: the hyper-parameters come in the
/// tensors' type T (torch.optim.SGD's float64 path keeps them doubles).
template <typename T>
void sgdUpdate(dpcrt_context *ctx, T *param, T *momentumBuf, const T *grad,
               int64_t n, T lr, T momentum, T dampening, T weightDecay,
               int32_t nesterov) {
  // GradScaler found an inf or NaN: scaler.step skips optimizer.step.
  if (ctx && ctx->gradScaler.foundInf)
    return;
  if (momentum != T(0) && !momentumBuf) {
    recordError(ctx, "sgd_update: momentum is " + std::to_string(momentum) +
                         " but no momentum buffer was passed");
    return;
  }
  dpc::SgdConstantsOf<T> c =
      dpc::sgdConstants(lr, momentum, dampening, weightDecay, nesterov != 0,
                        !ctx || ctx->optimizerSteps() == 0);
  double squares = sgdLoop(param, momentumBuf, grad, n, c);
  if (ctx)
    ctx->gradientSquares.atUpdate += squares;
}

/// adam_update_f32 and adam_update_f64: the constants rounded to T as
/// _single_tensor_adam's tensor ops round them (float32), or kept doubles.
template <typename T>
void adamUpdate(dpcrt_context *ctx, T *param, T *expAvg, T *expAvgSq,
                const T *grad, int64_t n, double lr, double beta1, double beta2,
                double eps, double weightDecay, int32_t decoupledWeightDecay) {
  if (!expAvg || !expAvgSq) {
    recordError(ctx, "adam_update: the exp_avg and exp_avg_sq buffers are "
                     "required");
    return;
  }
  if (n <= 0 || (ctx && ctx->gradScaler.foundInf))
    return;
  dpc::AdamConstantsOf<T> c = dpc::adamConstantsOf<T>(
      lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay != 0,
      ctx ? ctx->optimizerSteps() : 0);
  double squares = adamLoop(param, expAvg, expAvgSq, grad, n, c);
  if (ctx)
    ctx->gradientSquares.atUpdate += squares;
}

} // namespace

namespace dpc::cpu {

void sgd_update_f32(dpcrt_context *ctx, float *param, float *momentumBuf,
                    const float *grad, int64_t n, float lr, float momentum,
                    float dampening, float weightDecay, int32_t nesterov) {
  sgdUpdate(ctx, param, momentumBuf, grad, n, lr, momentum, dampening,
            weightDecay, nesterov);
}

void adam_update_f32(dpcrt_context *ctx, float *param, float *expAvg,
                     float *expAvgSq, const float *grad, int64_t n, double lr,
                     double beta1, double beta2, double eps, double weightDecay,
                     int32_t decoupledWeightDecay) {
  adamUpdate(ctx, param, expAvg, expAvgSq, grad, n, lr, beta1, beta2, eps,
             weightDecay, decoupledWeightDecay);
}

void sgd_update_f64(dpcrt_context *ctx, double *param, double *momentumBuf,
                    const double *grad, int64_t n, double lr, double momentum,
                    double dampening, double weightDecay, int32_t nesterov) {
  sgdUpdate(ctx, param, momentumBuf, grad, n, lr, momentum, dampening,
            weightDecay, nesterov);
}

void adam_update_f64(dpcrt_context *ctx, double *param, double *expAvg,
                     double *expAvgSq, const double *grad, int64_t n, double lr,
                     double beta1, double beta2, double eps, double weightDecay,
                     int32_t decoupledWeightDecay) {
  adamUpdate(ctx, param, expAvg, expAvgSq, grad, n, lr, beta1, beta2, eps,
             weightDecay, decoupledWeightDecay);
}

} // namespace dpc::cpu

//===----------------------------------------------------------------------===//
// Gradient clipping
//===----------------------------------------------------------------------===//
//
// torch.nn.utils.clip_grad_norm_ and clip_grad_value_ (torch 1.13) on the
// averaged gradients, in place. The norms are accumulated in double and
// rounded to float32, where torch's float32 reductions accumulate in float
// (a few ulps apart); the coefficient and the scaling are float32 exactly
// as torch computes them (kernel_shared.h). The float64 twin keeps
// everything in double.

using dpc::recordError;

namespace {

template <typename T> T maxPropagatingNaN(T a, T b) {
  return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
}

/// clip_grad_norm_ over T gradients: per-gradient term sums in Acc (double
/// for float32; long double for float64, so that a long gradient's norm
/// stays within an ulp or two of the exact one), the norms and the
/// coefficient in T.
template <typename T, typename Acc>
void clipGradNorm(dpcrt_context *ctx, T *const *grads, const int64_t *sizes,
                  int32_t count, double maxNorm, double normType) {
  if (count <= 0 || !grads || !sizes) {
    recordError(ctx, "clip_grad_norm: no gradients");
    return;
  }
  if (!(normType > 0.0)) {
    recordError(ctx, "clip_grad_norm: norm_type " + std::to_string(normType) +
                         " is not positive");
    return;
  }
  bool infNorm = std::isinf(normType);
  double squares = 0.0;
  for (int32_t i = 0; i < count; ++i)
    squares += sumOfSquares(grads[i], sizes[i]);
  if (ctx) {
    ctx->gradientSquares.beforeClip += squares;
    ctx->gradientSquares.clipped = true;
  }
  // torch.norm(torch.stack([torch.norm(g, p) for g in grads]), p)
  Acc totalTerms = 0.0;
  T totalMax = T(0);
  for (int32_t i = 0; i < count; ++i) {
    if (infNorm) {
      // g.abs().max(), then the max over the gradients; NaN propagates.
      for (int64_t j = 0; j < sizes[i]; ++j)
        totalMax = maxPropagatingNaN(totalMax, std::fabs(grads[i][j]));
      continue;
    }
    Acc terms = 0.0;
    for (int64_t j = 0; j < sizes[i]; ++j)
      terms += dpc::gradNormTerm(grads[i][j], normType);
    totalTerms += dpc::gradNormTerm(
        dpc::finishGradNorm<T>(static_cast<double>(terms), normType), normType);
  }
  T total = infNorm ? totalMax
                    : dpc::finishGradNorm<T>(static_cast<double>(totalTerms),
                                             normType);
  T coef = dpc::clipGradNormCoefficient(total, maxNorm);
  for (int32_t i = 0; i < count; ++i)
    for (int64_t j = 0; j < sizes[i]; ++j)
      grads[i][j] *= coef;
}

} // namespace

namespace dpc::cpu {

void clip_grad_norm_f32(dpcrt_context *ctx, float *const *grads,
                        const int64_t *sizes, int32_t count, double maxNorm,
                        double normType) {
  clipGradNorm<float, double>(ctx, grads, sizes, count, maxNorm, normType);
}

void clip_grad_norm_f64(dpcrt_context *ctx, double *const *grads,
                        const int64_t *sizes, int32_t count, double maxNorm,
                        double normType) {
  clipGradNorm<double, long double>(ctx, grads, sizes, count, maxNorm,
                                    normType);
}

void clip_grad_value_f32(dpcrt_context *ctx, float *grad, int64_t n,
                         double clipValue) {
  if (ctx) {
    ctx->gradientSquares.beforeClip += sumOfSquares(grad, n);
    ctx->gradientSquares.clipped = true;
  }
  float bound = static_cast<float>(clipValue);
  for (int64_t i = 0; i < n; ++i)
    grad[i] = clipGradValue(grad[i], bound);
}

} // namespace dpc::cpu

//===----------------------------------------------------------------------===//
// Loss scaling (torch.amp.GradScaler)
//===----------------------------------------------------------------------===//

namespace dpc::cpu {

void loss_scale_f32(dpcrt_context *ctx, float *out, int64_t n) {
  std::fill(out, out + n, ctx->gradScaler.scale);
}

void unscale_grads_f32(dpcrt_context *ctx, float *const *grads,
                       const int64_t *sizes, int32_t count) {
  if (count <= 0 || !grads || !sizes) {
    recordError(ctx, "unscale_grads: no gradients");
    return;
  }
  float invScale = ctx->gradScaler.inverseScale();
  bool foundInf = false;
  double squares = 0.0;
  for (int32_t i = 0; i < count; ++i) {
    float *g = grads[i];
    for (int64_t j = 0; j < sizes[i]; ++j) {
      // The check reads the value before unscaling, as torch's kernel; an
      // inf times inv_scale stays inf, so the order only matters for NaN.
      foundInf |= !std::isfinite(g[j]);
      g[j] = invScale == 1.0f ? g[j] : g[j] * invScale;
    }
    squares += sumOfSquares(g, sizes[i]);
  }
  ctx->gradScaler.foundInf = ctx->gradScaler.foundInf || foundInf;
  ctx->gradientSquares.afterUnscale += squares;
  ctx->gradientSquares.unscaled = true;
}

} // namespace dpc::cpu
