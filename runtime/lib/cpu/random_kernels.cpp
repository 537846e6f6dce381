//===- random_kernels.cpp - CPU kernels of the random ops -----------------===//
//
// Dropout: each block of four elements draws one Philox4x32-10 block
// (philox.h) and multiplies by the noise torch's _dropout_impl would,
// 0 or 1.0f / float(1 - p). The forward and the backward are the same call.
// Bernoulli: the same draws as 0 or 1 (torchvision's StochasticDepth noise).
// The loops have no branches on the draws, so they vectorize (the 32x32->64
// multiplies of the rounds are vpmuludq on x86-64).
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "philox.h"

#include <string>

using dpc::recordError;

namespace dpc::cpu {

void dropout_f32(dpcrt_context *ctx, float *out, const float *in, int64_t n,
                 double p, int32_t site, int32_t micro_batch, int32_t replica) {
  DropoutPlan d = planDropout(ctx->seed, ctx->step, ctx->rank, n, p, site,
                              micro_batch, replica);
  if (!d.error.empty())
    return recordError(ctx, d.error);
  const int64_t blocks = n / 4;
  for (int64_t block = 0; block < blocks; ++block) {
    PhiloxBlock draw = randomBlock(d.stream, static_cast<uint32_t>(block));
    for (int lane = 0; lane < 4; ++lane)
      out[4 * block + lane] =
          in[4 * block + lane] *
          dropoutNoise(draw.word[lane], d.keepBound, d.scale);
  }
  if (int64_t rest = n - 4 * blocks) {
    PhiloxBlock draw = randomBlock(d.stream, static_cast<uint32_t>(blocks));
    for (int64_t lane = 0; lane < rest; ++lane)
      out[4 * blocks + lane] =
          in[4 * blocks + lane] *
          dropoutNoise(draw.word[lane], d.keepBound, d.scale);
  }
}

void bernoulli_f32(dpcrt_context *ctx, float *out, int64_t n, double p,
                   int32_t site, int32_t micro_batch, int32_t replica) {
  BernoulliPlan b = planBernoulli(ctx->seed, ctx->step, ctx->rank, n, p, site,
                                  micro_batch, replica);
  if (!b.error.empty())
    return recordError(ctx, b.error);
  const int64_t blocks = n / 4;
  for (int64_t block = 0; block < blocks; ++block) {
    PhiloxBlock draw = randomBlock(b.stream, static_cast<uint32_t>(block));
    for (int lane = 0; lane < 4; ++lane)
      out[4 * block + lane] = bernoulliValue(draw.word[lane], b.oneBound);
  }
  if (int64_t rest = n - 4 * blocks) {
    PhiloxBlock draw = randomBlock(b.stream, static_cast<uint32_t>(blocks));
    for (int64_t lane = 0; lane < rest; ++lane)
      out[4 * blocks + lane] = bernoulliValue(draw.word[lane], b.oneBound);
  }
}

} // namespace dpc::cpu
