//===- reduction_kernels.cu - CUDA kernels of the reductions --------------===//
//
// The CUDA counterparts of cpu/reduction_kernels.cpp: the broadcast-undoing
// sum (one warp per output element) and softmax / log-softmax with their
// gradients. Sums the CPU accumulates in double are deterministic tree
// reductions in double here; both round to the same float except in rare
// near-ties. exp and log are evaluated in double and rounded to float.
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
#include <climits>
#include <cmath>
#include <string>

namespace dpc::cuda {
namespace {

/// The reduction of dpcrt_reduce_sum_f32, one warp per output element:
/// lane l sums the reduced positions l, l + 32, ... in increasing order in
/// double, then the lanes combine by a fixed shuffle tree. `st` holds the
/// reduced dimensions (shape, input strides); `kept` the kept ones (shape,
/// input strides, output strides).
__global__ void reduceSumKernel(float *out, const float *in, Strides reduced,
                                int64_t reducedN, Strides kept, int64_t outN) {
  int64_t warp =
      (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / 32;
  int lane = threadIdx.x % 32;
  int64_t warps = static_cast<int64_t>(gridDim.x) * blockDim.x / 32;
  for (int64_t o = warp; o < outN; o += warps) {
    // The input offset of this output element's first summand.
    int64_t base = 0;
    for (int d = 0; d < kept.rank; ++d)
      base += (o / kept.stride[1][d]) % kept.shape[d] * kept.stride[0][d];
    double sum = 0.0;
    for (int64_t r = lane; r < reducedN; r += 32) {
      int64_t off[1];
      offsetsOf<1>(reduced, r, off);
      sum += in[base + off[0]];
    }
    for (int delta = 16; delta > 0; delta /= 2)
      sum += __shfl_down_sync(0xffffffffu, sum, delta);
    if (lane == 0)
      out[o] = static_cast<float>(sum);
  }
}

/// The CPU softmax's running maximum as a tree: NaN wins, else the larger.
__device__ float maxOrNan(float a, float b) {
  return (isnan(b) || b > a) ? b : a;
}
__device__ float blockMax(float v, float *shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s)
      shared[threadIdx.x] =
          maxOrNan(shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  float result = shared[0];
  __syncthreads();
  return result;
}

/// inner == 1: one block per contiguous row of `size` elements.
__global__ void softmaxRowKernel(float *out, const float *in, int64_t size,
                                 bool log) {
  __shared__ double shared[kBlock];
  __shared__ float sharedF[kBlock];
  const float *x = in + blockIdx.x * size;
  float *y = out + blockIdx.x * size;
  float max = x[0];
  for (int64_t j = threadIdx.x; j < size; j += kBlock)
    max = maxOrNan(max, x[j]);
  max = blockMax(max, sharedF);
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < size; j += kBlock)
    sum += expF(x[j] - max);
  sum = blockSum(sum, shared);
  if (log) {
    float logSum = logF(static_cast<float>(sum));
    for (int64_t j = threadIdx.x; j < size; j += kBlock)
      y[j] = x[j] - max - logSum;
  } else {
    float r = 1.0f / static_cast<float>(sum);
    for (int64_t j = threadIdx.x; j < size; j += kBlock)
      y[j] = expF(x[j] - max) * r;
  }
}

/// inner > 1: one thread per (outer, inner) column, the CPU's loops.
__global__ void softmaxColumnKernel(float *out, const float *in, int64_t outer,
                                    int64_t size, int64_t inner, bool log) {
  DPC_GRID_STRIDE(t, outer * inner) {
    int64_t o = t / inner, r = t % inner;
    const float *x = in + o * size * inner + r;
    float *y = out + o * size * inner + r;
    float max = x[0];
    for (int64_t j = 1; j < size; ++j)
      if (isnan(x[j * inner]) || x[j * inner] > max)
        max = x[j * inner];
    double sum = 0.0;
    for (int64_t j = 0; j < size; ++j)
      sum += expF(x[j * inner] - max);
    if (log) {
      float logSum = logF(static_cast<float>(sum));
      for (int64_t j = 0; j < size; ++j)
        y[j * inner] = x[j * inner] - max - logSum;
    } else {
      // The CPU multiplies by the reciprocal for a last dimension (only
      // reached here for inner == 1 when outer exceeds a grid) and divides
      // otherwise.
      float s = static_cast<float>(sum), r = 1.0f / s;
      for (int64_t j = 0; j < size; ++j)
        y[j * inner] =
            inner == 1 ? expF(x[j] - max) * r : expF(x[j * inner] - max) / s;
    }
  }
}

__global__ void softmaxGradRowKernel(float *dx, const float *dy, const float *y,
                                     int64_t size, bool log) {
  __shared__ double shared[kBlock];
  const float *g = dy + blockIdx.x * size, *out = y + blockIdx.x * size;
  float *d = dx + blockIdx.x * size;
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < size; j += kBlock)
    sum += log ? g[j] : g[j] * out[j];
  float s = static_cast<float>(blockSum(sum, shared));
  for (int64_t j = threadIdx.x; j < size; j += kBlock)
    d[j] = log ? g[j] - expF(out[j]) * s : (g[j] - s) * out[j];
}

__global__ void softmaxGradColumnKernel(float *dx, const float *dy,
                                        const float *y, int64_t outer,
                                        int64_t size, int64_t inner, bool log) {
  DPC_GRID_STRIDE(t, outer * inner) {
    int64_t base = t / inner * size * inner + t % inner;
    const float *g = dy + base, *out = y + base;
    float *d = dx + base;
    double sum = 0.0;
    for (int64_t j = 0; j < size; ++j)
      sum += log ? g[j * inner] : g[j * inner] * out[j * inner];
    float s = static_cast<float>(sum);
    for (int64_t j = 0; j < size; ++j)
      d[j * inner] = log ? g[j * inner] - expF(out[j * inner]) * s
                         : (g[j * inner] - s) * out[j * inner];
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void reduce_sum_f32(dpcrt_context *ctx, float *out, const float *in,
                    int32_t rank, const int64_t *dims, int64_t out_n) {
  if (rank < 0 || out_n < 0) {
    recordError(ctx, "reduce_sum: negative rank or output size");
    return;
  }
  if (rank > kMaxRank) {
    recordError(ctx, "reduce_sum: rank " + std::to_string(rank) +
                         " is not supported on the cuda backend (at most " +
                         std::to_string(kMaxRank) + ")");
    return;
  }
  if (out_n == 0)
    return;
  // Split the dimensions into kept ones (a non-zero output stride) and
  // reduced ones, with the input's dense row-major strides.
  Strides reduced = {}, kept = {};
  int64_t inStride = 1, reducedN = 1;
  bool empty = false;
  for (int32_t d = rank - 1; d >= 0; --d) {
    int64_t extent = dims[d], outStride = dims[rank + d];
    empty |= extent <= 0;
    if (outStride == 0 && extent != 1) {
      reduced.shape[reduced.rank] = extent;
      reduced.stride[0][reduced.rank++] = inStride;
      reducedN *= std::max<int64_t>(extent, 0);
    } else if (extent != 1) {
      kept.shape[kept.rank] = extent;
      kept.stride[0][kept.rank] = inStride;
      kept.stride[1][kept.rank++] = outStride;
    }
    inStride *= std::max<int64_t>(extent, 0);
  }
  // Dimensions were collected innermost first; offsetsOf wants row-major.
  std::reverse(reduced.shape, reduced.shape + reduced.rank);
  std::reverse(reduced.stride[0], reduced.stride[0] + reduced.rank);
  if (empty) {
    fill_f32(ctx, out, out_n, 0.0f);
    return;
  }
  int64_t threads = out_n * 32;
  reduceSumKernel<<<gridFor(threads, kThreads), kThreads, 0,
                    computeStream(ctx)>>>(out, in, reduced, reducedN, kept,
                                          out_n);
  launchFailed(ctx, "reduce_sum");
}

void softmax_f32(dpcrt_context *ctx, float *out, const float *in, int64_t outer,
                 int64_t size, int64_t inner, int32_t log) {
  if (size <= 0 || outer <= 0 || inner <= 0)
    return;
  cudaStream_t stream = computeStream(ctx);
  if (inner == 1 && outer <= INT_MAX)
    softmaxRowKernel<<<static_cast<unsigned>(outer), kBlock, 0, stream>>>(
        out, in, size, log != 0);
  else
    softmaxColumnKernel<<<gridFor(outer * inner), 256, 0, stream>>>(
        out, in, outer, size, inner, log != 0);
  launchFailed(ctx, "softmax");
}

void softmax_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                      const float *y, int64_t outer, int64_t size,
                      int64_t inner, int32_t log) {
  if (size <= 0 || outer <= 0 || inner <= 0)
    return;
  cudaStream_t stream = computeStream(ctx);
  if (inner == 1 && outer <= INT_MAX)
    softmaxGradRowKernel<<<static_cast<unsigned>(outer), kBlock, 0, stream>>>(
        dx, dy, y, size, log != 0);
  else
    softmaxGradColumnKernel<<<gridFor(outer * inner), 256, 0, stream>>>(
        dx, dy, y, outer, size, inner, log != 0);
  launchFailed(ctx, "softmax_grad");
}

} // namespace dpc::cuda
