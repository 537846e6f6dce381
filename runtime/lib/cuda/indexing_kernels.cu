//===- indexing_kernels.cu - CUDA kernels of the indexing ops -------------===//
//
// The CUDA counterparts of cpu/indexing_kernels.cpp (embedding and its
// scatter-add, gather and scatter_add), and checkRange, the stream-ordered
// index check that the indexing and loss kernels report out-of-range indices
// and labels with. The embedding gradient sums each element of dweight in one
// thread in the CPU's order: bitwise equal, no atomics. scatter_add likewise
// adds each line (o, i) of its [outer, dim, inner] view in one thread, in
// increasing j: deterministic and equal to the CPU bit for bit, where torch's
// CUDA kernel adds with atomicAdd in no fixed order. It runs outer * inner
// threads, each as long as the index's dimension.
//
// Like the CPU kernels (-ffp-contract=off), this file must be compiled with
// -fmad=false and without --use_fast_math: fused multiply-adds appear only
// where written (__fmaf_rn, where the CPU calls std::fma), and division and
// sqrt are IEEE-rounded.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

#include <algorithm>
#include <cmath>

namespace dpc::cuda {
namespace {

__global__ void firstOutOfRangeKernel(unsigned long long *first,
                                      const int64_t *indices, int64_t n,
                                      int64_t limit) {
  DPC_GRID_STRIDE(s, n) {
    if (indices[s] < 0 || indices[s] >= limit)
      atomicMin(first, static_cast<unsigned long long>(s));
  }
}

__global__ void reportFirstKernel(DeviceError *error, int32_t kind,
                                  const unsigned long long *first,
                                  const int64_t *indices, int64_t limit) {
  if (*first != ~0ull)
    reportDeviceError(error, kind, indices[*first],
                      static_cast<int64_t>(*first), limit);
}

__global__ void embeddingKernel(float *out, const float *weight,
                                const int64_t *indices, int64_t n,
                                int64_t numWeights, int64_t dim) {
  DPC_GRID_STRIDE(i, n * dim) {
    int64_t k = indices[i / dim];
    out[i] = k < 0 || k >= numWeights ? NAN : weight[k * dim + i % dim];
  }
}

/// Thread (r, j) owns column j of the rows k with k % classes == r and
/// scans the indices in order s = 0, 1, ..., adding grad[s, j] into the
/// rows it owns: each element of dweight is summed by one thread in the
/// CPU's order (bitwise equal, no atomics), and `classes` only spreads the
/// rows over more threads. Consecutive threads share r, so a warp reads
/// one index (a broadcast) and a contiguous piece of grad.
__global__ void embeddingGradKernel(float *dweight, const float *grad,
                                    const int64_t *indices, int64_t n,
                                    int64_t numWeights, int64_t dim,
                                    int64_t classes, int64_t paddingIdx) {
  DPC_GRID_STRIDE(t, classes * dim) {
    int64_t r = t / dim, j = t % dim;
    for (int64_t s = 0; s < n; ++s) {
      int64_t k = indices[s];
      if (k < 0 || k >= numWeights || k % classes != r || k == paddingIdx)
        continue;
      float *w = dweight + k * dim + j;
      *w = *w + grad[s * dim + j];
    }
  }
}

__global__ void gatherKernel(float *out, const float *input,
                             const int64_t *index, int64_t n, int64_t inputDim,
                             int64_t indexDim, int64_t inner) {
  DPC_GRID_STRIDE(s, n) {
    int64_t o = s / (indexDim * inner), i = s % inner, k = index[s];
    out[s] =
        k < 0 || k >= inputDim ? NAN : input[(o * inputDim + k) * inner + i];
  }
}

/// Thread `line` = (o, i) adds src[o, j, i] into out[o, index[o, j, i], i]
/// for j = 0, 1, ... in order (skipping indices out of range, which
/// checkRange reports): the elements it writes are written by no other
/// thread.
__global__ void scatterAddKernel(float *out, const int64_t *index,
                                 const float *src, int64_t outer,
                                 int64_t outDim, int64_t indexDim,
                                 int64_t inner) {
  DPC_GRID_STRIDE(line, outer * inner) {
    int64_t o = line / inner, i = line % inner;
    float *block = out + o * outDim * inner + i;
    for (int64_t j = 0; j < indexDim; ++j) {
      int64_t at = (o * indexDim + j) * inner + i, k = index[at];
      if (k < 0 || k >= outDim)
        continue;
      block[k * inner] = block[k * inner] + src[at];
    }
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

// Declared, with its contract, in device_utils.cuh.
void checkRange(dpcrt_context *ctx, int32_t kind, const char *kernel,
                const int64_t *indices, int64_t n, int64_t limit) {
  if (n <= 0)
    return;
  auto *first = static_cast<unsigned long long *>(
      scratch(ctx, sizeof(unsigned long long)));
  if (!first)
    return;
  cudaStream_t stream = computeStream(ctx);
  if (failed(ctx, cudaMemsetAsync(first, 0xff, sizeof(*first), stream), kernel))
    return;
  firstOutOfRangeKernel<<<gridFor(n), 256, 0, stream>>>(first, indices, n,
                                                        limit);
  reportFirstKernel<<<1, 1, 0, stream>>>(deviceError(ctx), kind, first, indices,
                                         limit);
  launchFailed(ctx, kernel);
}

void embedding_f32(dpcrt_context *ctx, float *out, const float *weight,
                   const int64_t *indices, int64_t n, int64_t numWeights,
                   int64_t dim) {
  if (n <= 0)
    return;
  checkRange(ctx, kEmbeddingIndex, "embedding", indices, n, numWeights);
  if (dim <= 0)
    return;
  embeddingKernel<<<gridFor(n * dim), 256, 0, computeStream(ctx)>>>(
      out, weight, indices, n, numWeights, dim);
  launchFailed(ctx, "embedding");
}

void embedding_grad_f32(dpcrt_context *ctx, float *dweight, const float *grad,
                        const int64_t *indices, int64_t n, int64_t numWeights,
                        int64_t dim, int64_t paddingIdx) {
  checkRange(ctx, kEmbeddingGradIndex, "embedding_grad", indices, n,
             numWeights);
  if (numWeights <= 0 || dim <= 0)
    return;
  cudaStream_t stream = computeStream(ctx);
  if (failed(ctx,
             cudaMemsetAsync(
                 dweight, 0,
                 static_cast<size_t>(numWeights * dim) * sizeof(float), stream),
             "embedding_grad: cudaMemsetAsync") ||
      n <= 0)
    return;
  // About 32K threads, each scanning all n indices.
  int64_t classes = std::clamp<int64_t>((32768 + dim - 1) / dim, 1, numWeights);
  embeddingGradKernel<<<gridFor(classes * dim), 256, 0, stream>>>(
      dweight, grad, indices, n, numWeights, dim, classes, paddingIdx);
  launchFailed(ctx, "embedding_grad");
}

void gather_f32(dpcrt_context *ctx, float *out, const float *input,
                const int64_t *index, int64_t outer, int64_t inputDim,
                int64_t indexDim, int64_t inner) {
  int64_t n = outer * indexDim * inner;
  if (n <= 0)
    return;
  checkRange(ctx, kGatherIndex, "gather", index, n, inputDim);
  gatherKernel<<<gridFor(n), 256, 0, computeStream(ctx)>>>(
      out, input, index, n, inputDim, indexDim, inner);
  launchFailed(ctx, "gather");
}

void scatter_add_f32(dpcrt_context *ctx, float *out, const float *input,
                     const int64_t *index, const float *src, int64_t outer,
                     int64_t outDim, int64_t indexDim, int64_t inner) {
  int64_t size = outer * outDim * inner, lines = outer * inner;
  checkRange(ctx, kScatterAddIndex, "scatter_add", index, lines * indexDim,
             outDim);
  cudaStream_t stream = computeStream(ctx);
  if (size <= 0 ||
      (out != input &&
       failed(ctx,
              cudaMemcpyAsync(out, input,
                              static_cast<size_t>(size) * sizeof(float),
                              cudaMemcpyDeviceToDevice, stream),
              "scatter_add: cudaMemcpyAsync")) ||
      indexDim <= 0)
    return;
  scatterAddKernel<<<gridFor(lines), 256, 0, stream>>>(out, index, src, outer,
                                                       outDim, indexDim, inner);
  launchFailed(ctx, "scatter_add");
}

} // namespace dpc::cuda
