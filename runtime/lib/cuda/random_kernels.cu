//===- random_kernels.cu - CUDA kernels of the random ops -----------------===//
//
// The CUDA counterpart of cpu/random_kernels.cpp: one thread per block of
// four elements draws the same Philox4x32-10 block (philox.h) as the CPU,
// so both backends drop the same elements and draw the same Bernoulli
// tensors.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"
#include "philox.h"

#include <string>

namespace dpc::cuda {
namespace {

__global__ void dropoutKernel(float *out, const float *in, int64_t n,
                              RandomStream s, uint32_t keepBound, float scale) {
  int64_t blocks = (n + 3) / 4;
  DPC_GRID_STRIDE(block, blocks) {
    PhiloxBlock draw = randomBlock(s, static_cast<uint32_t>(block));
    for (int lane = 0; lane < 4; ++lane) {
      int64_t i = 4 * block + lane;
      if (i < n)
        out[i] = in[i] * dropoutNoise(draw.word[lane], keepBound, scale);
    }
  }
}

__global__ void bernoulliKernel(float *out, int64_t n, RandomStream s,
                                uint32_t oneBound) {
  int64_t blocks = (n + 3) / 4;
  DPC_GRID_STRIDE(block, blocks) {
    PhiloxBlock draw = randomBlock(s, static_cast<uint32_t>(block));
    for (int lane = 0; lane < 4; ++lane) {
      int64_t i = 4 * block + lane;
      if (i < n)
        out[i] = bernoulliValue(draw.word[lane], oneBound);
    }
  }
}

} // namespace

void dropout_f32(dpcrt_context *ctx, float *out, const float *in, int64_t n,
                 double p, int32_t site, int32_t micro_batch, int32_t replica) {
  DropoutPlan d = planDropout(ctx->seed, ctx->step, ctx->rank, n, p, site,
                              micro_batch, replica);
  if (!d.error.empty())
    return recordError(ctx, d.error);
  launch(ctx, "dropout", (n + 3) / 4, dropoutKernel, out, in, n, d.stream,
         d.keepBound, d.scale);
}

void bernoulli_f32(dpcrt_context *ctx, float *out, int64_t n, double p,
                   int32_t site, int32_t micro_batch, int32_t replica) {
  BernoulliPlan b = planBernoulli(ctx->seed, ctx->step, ctx->rank, n, p, site,
                                  micro_batch, replica);
  if (!b.error.empty())
    return recordError(ctx, b.error);
  launch(ctx, "bernoulli", (n + 3) / 4, bernoulliKernel, out, n, b.stream,
         b.oneBound);
}

} // namespace dpc::cuda
