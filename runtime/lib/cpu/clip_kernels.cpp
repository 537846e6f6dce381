//===- clip_kernels.cpp - CPU backend of gradient clipping ----------------===//
//
// torch.nn.utils.clip_grad_norm_ and clip_grad_value_ (torch 1.13) on the
// averaged gradients, in place. The norms are accumulated in double and
// rounded to float32, where torch's float32 reductions accumulate in float
// (a few ulps apart); the coefficient and the scaling are float32 exactly
// as torch computes them (kernel_shared.h).
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

float maxPropagatingNaN(float a, float b) {
  return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
}

} // namespace

namespace dpc::cpu {

void clip_grad_norm_f32(dpcrt_context *ctx, float *const *grads,
                        const int64_t *sizes, int32_t count, double maxNorm,
                        double normType) {
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
  // torch.norm(torch.stack([torch.norm(g, p) for g in grads]), p)
  double totalTerms = 0.0;
  float totalMax = 0.0f;
  for (int32_t i = 0; i < count; ++i) {
    if (infNorm) {
      // g.abs().max(), then the max over the gradients; NaN propagates.
      for (int64_t j = 0; j < sizes[i]; ++j)
        totalMax = maxPropagatingNaN(totalMax, std::fabs(grads[i][j]));
      continue;
    }
    double terms = 0.0;
    for (int64_t j = 0; j < sizes[i]; ++j)
      terms += gradNormTerm(grads[i][j], normType);
    totalTerms += gradNormTerm(finishGradNorm(terms, normType), normType);
  }
  float total = infNorm ? totalMax : finishGradNorm(totalTerms, normType);
  float coef = clipGradNormCoefficient(total, maxNorm);
  for (int32_t i = 0; i < count; ++i)
    for (int64_t j = 0; j < sizes[i]; ++j)
      grads[i][j] *= coef;
}

void clip_grad_value_f32(dpcrt_context *, float *grad, int64_t n,
                         double clipValue) {
  float bound = static_cast<float>(clipValue);
  for (int64_t i = 0; i < n; ++i)
    grad[i] = clipGradValue(grad[i], bound);
}

} // namespace dpc::cpu
