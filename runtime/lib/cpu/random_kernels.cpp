//===- random_kernels.cpp - CPU kernels of the random ops -----------------===//
//
// Dropout: each block of four elements draws one Philox4x32-10 block
// (philox.h) and multiplies by the noise torch's _dropout_impl would,
// 0 or 1.0f / float(1 - p). The forward and the backward are the same call.
// The loop has no branches on the draws, so it vectorizes (the 32x32->64
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
  int64_t stream = static_cast<int64_t>(ctx->rank) + replica;
  std::string error = dropoutArgumentError(n, p, site, micro_batch, stream);
  if (!error.empty())
    return recordError(ctx, error);
  // torch: noise.bernoulli_(1 - p); noise.div_(1 - p), in float.
  const float scale = p == 1.0 ? 0.0f : 1.0f / static_cast<float>(1.0 - p);
  const uint32_t keepBound = dropoutKeepBound(p);
  const DropoutStream s{ctx->seed, static_cast<uint32_t>(site),
                        static_cast<uint32_t>(micro_batch) << 16 |
                            static_cast<uint32_t>(stream),
                        static_cast<uint32_t>(ctx->step)};
  const int64_t blocks = n / 4;
  for (int64_t block = 0; block < blocks; ++block) {
    PhiloxBlock draw = dropoutBlock(s, static_cast<uint32_t>(block));
    for (int lane = 0; lane < 4; ++lane) {
      float noise = (draw.word[lane] >> 8) < keepBound ? scale : 0.0f;
      out[4 * block + lane] = in[4 * block + lane] * noise;
    }
  }
  if (int64_t rest = n - 4 * blocks) {
    PhiloxBlock draw = dropoutBlock(s, static_cast<uint32_t>(blocks));
    for (int64_t lane = 0; lane < rest; ++lane) {
      float noise = (draw.word[lane] >> 8) < keepBound ? scale : 0.0f;
      out[4 * blocks + lane] = in[4 * blocks + lane] * noise;
    }
  }
}

} // namespace dpc::cpu
