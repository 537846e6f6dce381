//===- optimizer_kernels.cu - CUDA kernels of the optimizer updates -------===//
//
// SGD and Adam element by element with the CPU kernels' arithmetic
// (kernel_shared.h) and constants, which the host computes from the step
// counter. With -fmad=false the only fused multiply-adds are those
// kernel_shared.h writes (__fmaf_rn where the CPU calls std::fma), and
// IEEE division and square root are nvcc's defaults, so the updates agree
// with the CPU bitwise.
//
// Like the CPU kernels (-ffp-contract=off), this file must be compiled with
// -fmad=false and without --use_fast_math: fused multiply-adds appear only
// where written (__fmaf_rn, where the CPU calls std::fma), and division and
// sqrt are IEEE-rounded.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

#include <string>

namespace dpc::cuda {
namespace {

// Element by element the CPU's update (kernel_shared.h).
__global__ void sgdKernel(float *param, float *momentumBuf, const float *grad,
                          int64_t n, SgdConstants c) {
  DPC_GRID_STRIDE(i, n) { sgdStep(param, momentumBuf, grad, i, c); }
}

__global__ void adamKernel(float *param, float *expAvg, float *expAvgSq,
                           const float *grad, int64_t n, AdamConstants c) {
  DPC_GRID_STRIDE(i, n) { adamStep(param, expAvg, expAvgSq, grad, i, c); }
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void sgd_update_f32(dpcrt_context *ctx, float *param, float *momentum_buf,
                    const float *grad, int64_t n, float lr, float momentum,
                    float dampening, float weight_decay, int32_t nesterov) {
  if (momentum != 0.0f && !momentum_buf) {
    recordError(ctx, "sgd_update: momentum is " + std::to_string(momentum) +
                         " but no momentum buffer was passed");
    return;
  }
  // The step counter lives on the host: the first step (0) initializes
  // the momentum buffer. The CPU kernel's constants (kernel_shared.h).
  SgdConstants c = sgdConstants(lr, momentum, dampening, weight_decay,
                                nesterov != 0, ctx->step == 0);
  launch(ctx, "sgd_update", n, sgdKernel, param, momentum_buf, grad, n, c);
}

void adam_update_f32(dpcrt_context *ctx, float *param, float *exp_avg,
                     float *exp_avg_sq, const float *grad, int64_t n, double lr,
                     double beta1, double beta2, double eps,
                     double weight_decay, int32_t decoupled_weight_decay) {
  if (!exp_avg || !exp_avg_sq) {
    recordError(ctx, "adam_update: the exp_avg and exp_avg_sq buffers are "
                     "required");
    return;
  }
  if (n <= 0)
    return;
  // The CPU kernel's constants (kernel_shared.h).
  AdamConstants c = adamConstants(lr, beta1, beta2, eps, weight_decay,
                                  decoupled_weight_decay != 0, ctx->step);
  launch(ctx, "adam_update", n, adamKernel, param, exp_avg, exp_avg_sq, grad, n,
         c);
}

} // namespace dpc::cuda
