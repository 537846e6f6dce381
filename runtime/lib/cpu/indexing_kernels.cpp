//===- indexing_kernels.cpp - CPU kernels of the indexing ops -------------===//
//
// Embedding lookups and their scatter-add (torch's embedding and
// embedding_dense_backward on CPU, in the same order of float additions).
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

using dpc::recordError;

namespace {

bool checkIndex(dpcrt_context *ctx, const char *kernel, int64_t index,
                int64_t position, int64_t numWeights) {
  if (index >= 0 && index < numWeights)
    return true;
  recordError(ctx, std::string(kernel) + ": index " + std::to_string(index) +
                       " at position " + std::to_string(position) +
                       " is out of range [0, " + std::to_string(numWeights) +
                       ")");
  return false;
}

} // namespace

namespace dpc::cpu {

void embedding_f32(dpcrt_context *ctx, float *out, const float *weight,
                   const int64_t *indices, int64_t n, int64_t numWeights,
                   int64_t dim) {
  for (int64_t s = 0; s < n; ++s) {
    if (!checkIndex(ctx, "embedding", indices[s], s, numWeights)) {
      std::fill(out, out + n * dim, NAN);
      return;
    }
    std::memcpy(out + s * dim, weight + indices[s] * dim,
                static_cast<size_t>(dim) * sizeof(float));
  }
}

void embedding_grad_f32(dpcrt_context *ctx, float *dweight, const float *grad,
                        const int64_t *indices, int64_t n, int64_t numWeights,
                        int64_t dim, int64_t paddingIdx) {
  // embedding_dense_backward_cpu: zeros, then grad_weight[k].add_(grad[i])
  // for i in increasing order, in float.
  std::fill(dweight, dweight + numWeights * dim, 0.0f);
  for (int64_t s = 0; s < n; ++s) {
    int64_t k = indices[s];
    if (!checkIndex(ctx, "embedding_grad", k, s, numWeights)) {
      std::fill(dweight, dweight + numWeights * dim, NAN);
      return;
    }
    if (k == paddingIdx)
      continue;
    float *row = dweight + k * dim;
    const float *g = grad + s * dim;
    for (int64_t j = 0; j < dim; ++j)
      row[j] += g[j];
  }
}

} // namespace dpc::cpu
