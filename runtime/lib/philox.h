//===- philox.h - The counter-based generator of the random ops -*- C++ -*-===//
//
// Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as
// easy as 1, 2, 3", SC 2011; the generator of cuRAND and of PyTorch's CUDA
// dropout), written once for the CPU and the CUDA kernels. It is a keyed
// bijection of a 128-bit counter: any element of any mask is computed from
// its coordinates alone, so the backward regenerates the forward's mask
// instead of storing it, ranks and replicas draw independent masks without
// communicating, and a resumed run redraws exactly the masks it would have.
//
// How the random ops use it (docs/ARCHITECTURE.md, "Dropout"):
//   key     = the run's seed (64 bits: low word, high word)
//   counter = (element / 4, site, micro_batch << 16 | stream, step)
// where `site` numbers the model's random calls (dropout and bernoulli
// together) in program order, `stream` is the DDP rank (or the replica under
// --mode dp), `micro_batch` the micro-batch under --accumulate, and `step`
// the optimizer steps taken. Word element % 4 of the block decides element
// `element`: a Bernoulli draw of probability q is 1 when its top 24 bits m
// satisfy m * 2^-24 < q (torch's bernoulli_(q)); dropout with probability p
// keeps the element when that draw with q = 1 - p is 1.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_PHILOX_H
#define DPC_RUNTIME_LIB_PHILOX_H

#include <cmath>
#include <cstdint>
#include <string>

#ifdef __CUDACC__
#define DPC_PHILOX_HOST_DEVICE __host__ __device__
#else
#define DPC_PHILOX_HOST_DEVICE
#endif

namespace dpc {

struct PhiloxBlock {
  uint32_t word[4];
};

/// Philox4x32 with 10 rounds, as Random123's philox4x32_10 (its known-answer
/// vectors are in the runtime unit tests).
DPC_PHILOX_HOST_DEVICE inline PhiloxBlock
philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
              uint32_t k1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(kMul0) * c0;
    uint64_t p1 = static_cast<uint64_t>(kMul1) * c2;
    uint32_t hi0 = static_cast<uint32_t>(p0 >> 32),
             lo0 = static_cast<uint32_t>(p0);
    uint32_t hi1 = static_cast<uint32_t>(p1 >> 32),
             lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {{c0, c1, c2, c3}};
}

/// Where the draws of one random call (a dropout mask, a Bernoulli tensor)
/// sit in the counter space (see the file comment).
struct RandomStream {
  uint64_t seed;
  uint32_t site;
  uint32_t lane; // micro_batch << 16 | (rank or replica)
  uint32_t step;
};

/// The number of 24-bit draws m that a Bernoulli draw of probability q
/// turns into 1: m < bound, i.e. m * 2^-24 < q (exact in double).
inline uint32_t bernoulliBound(double q) {
  return static_cast<uint32_t>(std::ceil(q * 16777216.0));
}

/// The number of 24-bit draws m kept by dropout with probability p: the
/// Bernoulli draw of 1 - p.
inline uint32_t dropoutKeepBound(double p) { return bernoulliBound(1.0 - p); }

/// Why a random call (`what`: "dropout", "bernoulli") cannot run, or ""
/// (checked by both backends before they draw): p outside [0, 1], a tensor
/// too large for the 32-bit block counter, or coordinates that do not fit
/// their counter fields.
inline std::string randomArgumentError(const char *what, int64_t n, double p,
                                       int32_t site, int32_t microBatch,
                                       int64_t stream) {
  if (!(p >= 0.0 && p <= 1.0))
    return std::string(what) +
           " probability has to be between 0 and 1, but got " +
           std::to_string(p);
  if (n < 0 || n >= (int64_t(1) << 34))
    return std::string(what) + " of " + std::to_string(n) +
           " elements (at most 2^34 - 1 are supported)";
  if (site < 0 || microBatch < 0 || microBatch > 0xFFFF || stream < 0 ||
      stream > 0xFFFF)
    return std::string(what) + ": site " + std::to_string(site) +
           ", micro-batch " + std::to_string(microBatch) + " or rank/replica " +
           std::to_string(stream) + " out of range (16 bits each)";
  return "";
}

/// Where the draws of one random call sit: its coordinates packed into the
/// counter's fields (randomArgumentError checks that they fit first).
inline RandomStream randomStream(uint64_t seed, int64_t step, int32_t site,
                                 int32_t microBatch, int64_t lane) {
  return {seed, static_cast<uint32_t>(site),
          static_cast<uint32_t>(microBatch) << 16 | static_cast<uint32_t>(lane),
          static_cast<uint32_t>(step)};
}

/// Everything a backend needs for one dropout call, derived from the
/// context's seed, step and rank and the call's arguments: where its mask
/// sits, the keep bound, torch's scale (`noise.div_(1 - p)` in float), or
/// why it cannot run (`error` non-empty).
struct DropoutPlan {
  RandomStream stream;
  uint32_t keepBound;
  float scale;
  std::string error;
};

inline DropoutPlan planDropout(uint64_t seed, int64_t step, int rank, int64_t n,
                               double p, int32_t site, int32_t microBatch,
                               int32_t replica) {
  int64_t lane = static_cast<int64_t>(rank) + replica;
  DropoutPlan plan{};
  plan.error = randomArgumentError("dropout", n, p, site, microBatch, lane);
  if (!plan.error.empty())
    return plan;
  plan.stream = randomStream(seed, step, site, microBatch, lane);
  plan.keepBound = dropoutKeepBound(p);
  plan.scale = p == 1.0 ? 0.0f : 1.0f / static_cast<float>(1.0 - p);
  return plan;
}

/// Everything a backend needs for one bernoulli call (as DropoutPlan): where
/// its draws sit and the bound below which a draw is 1.
struct BernoulliPlan {
  RandomStream stream;
  uint32_t oneBound;
  std::string error;
};

inline BernoulliPlan planBernoulli(uint64_t seed, int64_t step, int rank,
                                   int64_t n, double p, int32_t site,
                                   int32_t microBatch, int32_t replica) {
  int64_t lane = static_cast<int64_t>(rank) + replica;
  BernoulliPlan plan{};
  plan.error = randomArgumentError("bernoulli", n, p, site, microBatch, lane);
  if (!plan.error.empty())
    return plan;
  plan.stream = randomStream(seed, step, site, microBatch, lane);
  plan.oneBound = bernoulliBound(p);
  return plan;
}

/// The value one Philox word gives its element of a Bernoulli draw: 1 or 0.
DPC_PHILOX_HOST_DEVICE inline float bernoulliValue(uint32_t word,
                                                   uint32_t oneBound) {
  return (word >> 8) < oneBound ? 1.0f : 0.0f;
}

/// The noise one Philox word gives its element: `scale` if kept, else 0.
DPC_PHILOX_HOST_DEVICE inline float
dropoutNoise(uint32_t word, uint32_t keepBound, float scale) {
  return (word >> 8) < keepBound ? scale : 0.0f;
}

/// The Philox block that decides elements 4 * block .. 4 * block + 3.
DPC_PHILOX_HOST_DEVICE inline PhiloxBlock randomBlock(const RandomStream &s,
                                                      uint32_t block) {
  return philox4x32_10(block, s.site, s.lane, s.step,
                       static_cast<uint32_t>(s.seed),
                       static_cast<uint32_t>(s.seed >> 32));
}

} // namespace dpc

#endif // DPC_RUNTIME_LIB_PHILOX_H
