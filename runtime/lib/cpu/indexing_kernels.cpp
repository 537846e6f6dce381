//===- indexing_kernels.cpp - CPU kernels of the indexing ops -------------===//
//
// Embedding lookups and their scatter-add (torch's embedding and
// embedding_dense_backward on CPU, in the same order of float additions);
// gather and scatter_add along one dimension (torch's CPU kernels, in the
// same order of float additions), threaded.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/parallel_chunks.h"

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

/// Checks every index of an [outer, index_dim, inner] index tensor against
/// [0, limit), recording the first one outside it (in row-major order).
bool checkIndices(dpcrt_context *ctx, const char *kernel, const int64_t *index,
                  int64_t n, int64_t limit) {
  for (int64_t s = 0; s < n; ++s)
    if (!checkIndex(ctx, kernel, index[s], s, limit))
      return false;
  return true;
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

void gather_f32(dpcrt_context *ctx, float *out, const float *input,
                const int64_t *index, int64_t outer, int64_t inputDim,
                int64_t indexDim, int64_t inner) {
  int64_t n = outer * indexDim * inner;
  if (!checkIndices(ctx, "gather", index, n, inputDim)) {
    std::fill(out, out + n, NAN);
    return;
  }
  dpc::parallelChunks(n, [=](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      int64_t o = s / (indexDim * inner), i = s % inner;
      out[s] = input[(o * inputDim + index[s]) * inner + i];
    }
  });
}

void scatter_add_f32(dpcrt_context *ctx, float *out, const float *input,
                     const int64_t *index, const float *src, int64_t outer,
                     int64_t outDim, int64_t indexDim, int64_t inner) {
  int64_t size = outer * outDim * inner;
  if (!checkIndices(ctx, "scatter_add", index, outer * indexDim * inner,
                    outDim)) {
    std::fill(out, out + size, NAN);
    return;
  }
  if (out != input)
    std::memcpy(out, input, static_cast<size_t>(size) * sizeof(float));
  // Each element of out receives only from the line (o, i) it lies on, in
  // increasing j as torch's CPU kernel adds them: the lines split between
  // threads, and the result is the same on every run and thread count.
  dpc::parallelChunks(outer * inner, [=](int64_t begin, int64_t end) {
    for (int64_t line = begin; line < end;) {
      int64_t o = line / inner, first = line % inner;
      int64_t last = std::min(inner, first + (end - line));
      float *block = out + o * outDim * inner;
      for (int64_t j = 0; j < indexDim; ++j) {
        int64_t row = (o * indexDim + j) * inner;
        for (int64_t i = first; i < last; ++i)
          block[index[row + i] * inner + i] += src[row + i];
      }
      line += last - first;
    }
  });
}

} // namespace dpc::cpu
