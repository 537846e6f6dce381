//===- reduction_kernels.cu - CUDA kernels of the reductions --------------===//
//
// The CUDA counterparts of cpu/reduction_kernels.cpp: the broadcast-undoing
// sum (one warp per output element) and softmax / log-softmax with their
// gradients. Sums the CPU accumulates in double are deterministic tree
// reductions in double here; both round to the same float except in rare
// near-ties. exp and log are evaluated in double and rounded to float.
// The float64 sum and softmax are the same kernels in double.
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
/// With Square, the squares are summed and the result is their square root
/// (dpcrt_reduce_norm2_f32). T is float, or double for reduce_sum_f64.
template <bool Square, typename T>
__global__ void reduceSumKernel(T *out, const T *in, Strides reduced,
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
      double v = in[base + off[0]];
      sum += Square ? v * v : v;
    }
    for (int delta = 16; delta > 0; delta /= 2)
      sum += __shfl_down_sync(0xffffffffu, sum, delta);
    if (lane == 0)
      out[o] = static_cast<T>(Square ? sqrt(sum) : sum);
  }
}

/// The reduction of dpcrt_reduce_max_f32, one warp per output element as
/// reduceSumKernel: NaN wins, else the larger (min: the smaller), which is
/// order-independent, so the result equals the CPU's.
__global__ void reduceMaxKernel(float *out, const float *in, Strides reduced,
                                int64_t reducedN, Strides kept, int64_t outN,
                                bool min) {
  int64_t warp =
      (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / 32;
  int lane = threadIdx.x % 32;
  int64_t warps = static_cast<int64_t>(gridDim.x) * blockDim.x / 32;
  auto fold = [min](float acc, float v) {
    if (isnan(acc) || isnan(v))
      return isnan(acc) ? acc : v;
    return min ? (v < acc ? v : acc) : (v > acc ? v : acc);
  };
  for (int64_t o = warp; o < outN; o += warps) {
    int64_t base = 0;
    for (int d = 0; d < kept.rank; ++d)
      base += (o / kept.stride[1][d]) % kept.shape[d] * kept.stride[0][d];
    // Every lane starts from the first element (reducedN >= 1).
    float acc = in[base];
    for (int64_t r = lane; r < reducedN; r += 32) {
      int64_t off[1];
      offsetsOf<1>(reduced, r, off);
      acc = fold(acc, in[base + off[0]]);
    }
    for (int delta = 16; delta > 0; delta /= 2)
      acc = fold(acc, __shfl_down_sync(0xffffffffu, acc, delta));
    if (lane == 0)
      out[o] = acc;
  }
}

/// The reduction of dpcrt_reduce_logsumexp_f32, one warp per output element:
/// the max folded as in reduceMaxKernel (infinite taken as 0), then
/// sum(exp(x - max)) in double by lanes and a fixed shuffle tree.
__global__ void reduceLogSumExpKernel(float *out, const float *in,
                                      Strides reduced, int64_t reducedN,
                                      Strides kept, int64_t outN) {
  int64_t warp =
      (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / 32;
  int lane = threadIdx.x % 32;
  int64_t warps = static_cast<int64_t>(gridDim.x) * blockDim.x / 32;
  auto fold = [](float acc, float v) {
    if (isnan(acc) || isnan(v))
      return isnan(acc) ? acc : v;
    return v > acc ? v : acc;
  };
  for (int64_t o = warp; o < outN; o += warps) {
    int64_t base = 0;
    for (int d = 0; d < kept.rank; ++d)
      base += (o / kept.stride[1][d]) % kept.shape[d] * kept.stride[0][d];
    float max = in[base];
    for (int64_t r = lane; r < reducedN; r += 32) {
      int64_t off[1];
      offsetsOf<1>(reduced, r, off);
      max = fold(max, in[base + off[0]]);
    }
    for (int delta = 16; delta > 0; delta /= 2)
      max = fold(max, __shfl_down_sync(0xffffffffu, max, delta));
    max = __shfl_sync(0xffffffffu, max, 0);
    if (isinf(max))
      max = 0.0f;
    double sum = 0.0;
    for (int64_t r = lane; r < reducedN; r += 32) {
      int64_t off[1];
      offsetsOf<1>(reduced, r, off);
      sum += expF(in[base + off[0]] - max);
    }
    for (int delta = 16; delta > 0; delta /= 2)
      sum += __shfl_down_sync(0xffffffffu, sum, delta);
    if (lane == 0)
      out[o] = logF(static_cast<float>(sum)) + max;
  }
}

/// dpcrt_max_dim_f32: one thread per (outer, inner) position, scanning in
/// order as the CPU (the first occurrence wins).
__global__ void maxDimKernel(float *values, int64_t *indices, const float *in,
                             int64_t outer, int64_t size, int64_t inner,
                             bool min) {
  DPC_GRID_STRIDE(i, outer * inner) {
    int64_t o = i / inner, r = i % inner;
    const float *x = in + o * size * inner + r;
    float best = x[0];
    int64_t at = 0;
    for (int64_t j = 1; j < size; ++j) {
      float v = x[j * inner];
      bool better = min ? v < best : v > best;
      if (!isnan(best) && (better || isnan(v))) {
        best = v;
        at = j;
      }
    }
    values[i] = best;
    indices[i] = at;
  }
}

/// dpcrt_max_dim_grad_f32: one thread per element of dx.
__global__ void maxDimGradKernel(float *dx, const float *dy,
                                 const int64_t *indices, int64_t outer,
                                 int64_t size, int64_t inner) {
  DPC_GRID_STRIDE(i, outer * size * inner) {
    int64_t r = i % inner, j = i / inner % size, o = i / (inner * size);
    dx[i] = indices[o * inner + r] == j ? dy[o * inner + r] : 0.0f;
  }
}

/// dpcrt_cumsum_f32: one thread per (outer, inner) position, a sequential
/// double sum along the dimension, as the CPU.
__global__ void cumsumKernel(float *out, const float *in, int64_t outer,
                             int64_t size, int64_t inner, bool reverse) {
  DPC_GRID_STRIDE(i, outer * inner) {
    int64_t o = i / inner, r = i % inner;
    double acc = 0.0;
    for (int64_t step = 0; step < size; ++step) {
      int64_t j = reverse ? size - 1 - step : step;
      int64_t at = (o * size + j) * inner + r;
      acc += in[at];
      out[at] = static_cast<float>(acc);
    }
  }
}

/// exp and log of the softmax kernels' element type: for float evaluated
/// in double and rounded (expF, logF), for double CUDA's double functions.
__device__ inline float expElement(float v) { return expF(v); }
__device__ inline double expElement(double v) { return exp(v); }
__device__ inline float logElement(float v) { return logF(v); }
__device__ inline double logElement(double v) { return log(v); }

/// The CPU softmax's running maximum as a tree: NaN wins, else the larger.
template <typename T> __device__ T maxOrNan(T a, T b) {
  return (isnan(b) || b > a) ? b : a;
}
template <typename T> __device__ T blockMax(T v, T *shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s)
      shared[threadIdx.x] =
          maxOrNan(shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  T result = shared[0];
  __syncthreads();
  return result;
}

// The softmax kernels for T float (softmax_f32) or double (softmax_f64):
// the sums in double either way.

/// inner == 1: one block per contiguous row of `size` elements.
template <typename T>
__global__ void softmaxRowKernel(T *out, const T *in, int64_t size, bool log) {
  __shared__ double shared[kBlock];
  __shared__ T sharedT[kBlock];
  const T *x = in + blockIdx.x * size;
  T *y = out + blockIdx.x * size;
  T max = x[0];
  for (int64_t j = threadIdx.x; j < size; j += kBlock)
    max = maxOrNan(max, x[j]);
  max = blockMax(max, sharedT);
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < size; j += kBlock)
    sum += expElement(x[j] - max);
  sum = blockSum(sum, shared);
  if (log) {
    T logSum = logElement(static_cast<T>(sum));
    for (int64_t j = threadIdx.x; j < size; j += kBlock)
      y[j] = x[j] - max - logSum;
  } else {
    T r = T(1) / static_cast<T>(sum);
    for (int64_t j = threadIdx.x; j < size; j += kBlock)
      y[j] = expElement(x[j] - max) * r;
  }
}

/// inner > 1: one thread per (outer, inner) column, the CPU's loops.
template <typename T>
__global__ void softmaxColumnKernel(T *out, const T *in, int64_t outer,
                                    int64_t size, int64_t inner, bool log) {
  DPC_GRID_STRIDE(t, outer * inner) {
    int64_t o = t / inner, r = t % inner;
    const T *x = in + o * size * inner + r;
    T *y = out + o * size * inner + r;
    T max = x[0];
    for (int64_t j = 1; j < size; ++j)
      if (isnan(x[j * inner]) || x[j * inner] > max)
        max = x[j * inner];
    double sum = 0.0;
    for (int64_t j = 0; j < size; ++j)
      sum += expElement(x[j * inner] - max);
    if (log) {
      T logSum = logElement(static_cast<T>(sum));
      for (int64_t j = 0; j < size; ++j)
        y[j * inner] = x[j * inner] - max - logSum;
    } else {
      // The CPU multiplies by the reciprocal for a last dimension (only
      // reached here for inner == 1 when outer exceeds a grid) and divides
      // otherwise.
      T s = static_cast<T>(sum), r = T(1) / s;
      for (int64_t j = 0; j < size; ++j)
        y[j * inner] = inner == 1 ? expElement(x[j] - max) * r
                                  : expElement(x[j * inner] - max) / s;
    }
  }
}

template <typename T>
__global__ void softmaxGradRowKernel(T *dx, const T *dy, const T *y,
                                     int64_t size, bool log) {
  __shared__ double shared[kBlock];
  const T *g = dy + blockIdx.x * size, *out = y + blockIdx.x * size;
  T *d = dx + blockIdx.x * size;
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < size; j += kBlock)
    sum += log ? g[j] : g[j] * out[j];
  T s = static_cast<T>(blockSum(sum, shared));
  for (int64_t j = threadIdx.x; j < size; j += kBlock)
    d[j] = log ? g[j] - expElement(out[j]) * s : (g[j] - s) * out[j];
}

template <typename T>
__global__ void softmaxGradColumnKernel(T *dx, const T *dy, const T *y,
                                        int64_t outer, int64_t size,
                                        int64_t inner, bool log) {
  DPC_GRID_STRIDE(t, outer * inner) {
    int64_t base = t / inner * size * inner + t % inner;
    const T *g = dy + base, *out = y + base;
    T *d = dx + base;
    double sum = 0.0;
    for (int64_t j = 0; j < size; ++j)
      sum += log ? g[j * inner] : g[j * inner] * out[j * inner];
    T s = static_cast<T>(sum);
    for (int64_t j = 0; j < size; ++j)
      d[j * inner] = log ? g[j * inner] - expElement(out[j * inner]) * s
                         : (g[j * inner] - s) * out[j * inner];
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

/// Splits the dimensions of a reduction (`dims` as in dpcrt_reduce_sum_f32)
/// into kept ones (a non-zero output stride) and reduced ones, with the
/// input's dense row-major strides; returns whether the input is empty.
static bool splitReduction(int32_t rank, const int64_t *dims, Strides &reduced,
                           Strides &kept, int64_t &reducedN) {
  int64_t inStride = 1;
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
  return empty;
}

/// What a reduction entry point does after its argument checks.
enum class ReductionPlan { Skip, EmptyInput, Launch };

/// The checks every reduction entry point (`name`) starts with, then
/// splitReduction: Skip after recording an error or for an empty output,
/// EmptyInput when the reduced input has no elements (each caller says what
/// that means for its reduction), Launch otherwise.
static ReductionPlan planReduction(dpcrt_context *ctx, const char *name,
                                   int32_t rank, const int64_t *dims,
                                   int64_t out_n, Strides &reduced,
                                   Strides &kept, int64_t &reducedN) {
  if (rank < 0 || out_n < 0) {
    recordError(ctx, std::string(name) + ": negative rank or output size");
    return ReductionPlan::Skip;
  }
  if (rank > kMaxRank) {
    recordError(ctx, std::string(name) + ": rank " + std::to_string(rank) +
                         " is not supported on the cuda backend (at most " +
                         std::to_string(kMaxRank) + ")");
    return ReductionPlan::Skip;
  }
  if (out_n == 0)
    return ReductionPlan::Skip;
  return splitReduction(rank, dims, reduced, kept, reducedN)
             ? ReductionPlan::EmptyInput
             : ReductionPlan::Launch;
}

/// reduce_sum_f32, reduce_sum_f64 and (Square) reduce_norm2_f32: a warp
/// per output element. `fill` is fill_f32 or fill_f64, for a sum over
/// nothing.
template <bool Square, typename T>
static void reduceSum(dpcrt_context *ctx, const char *name, T *out, const T *in,
                      int32_t rank, const int64_t *dims, int64_t out_n,
                      void (*fill)(dpcrt_context *, T *, int64_t, T)) {
  Strides reduced = {}, kept = {};
  int64_t reducedN = 1;
  switch (
      planReduction(ctx, name, rank, dims, out_n, reduced, kept, reducedN)) {
  case ReductionPlan::Skip:
    return;
  case ReductionPlan::EmptyInput: // a sum over nothing
    fill(ctx, out, out_n, T(0));
    return;
  case ReductionPlan::Launch:
    break;
  }
  int64_t threads = out_n * 32;
  reduceSumKernel<Square, T>
      <<<gridFor(threads, kThreads), kThreads, 0, computeStream(ctx)>>>(
          out, in, reduced, reducedN, kept, out_n);
  launchFailed(ctx, name);
}

void reduce_sum_f32(dpcrt_context *ctx, float *out, const float *in,
                    int32_t rank, const int64_t *dims, int64_t out_n) {
  reduceSum<false>(ctx, "reduce_sum", out, in, rank, dims, out_n, fill_f32);
}

void reduce_sum_f64(dpcrt_context *ctx, double *out, const double *in,
                    int32_t rank, const int64_t *dims, int64_t out_n) {
  reduceSum<false>(ctx, "reduce_sum", out, in, rank, dims, out_n, fill_f64);
}

void reduce_norm2_f32(dpcrt_context *ctx, float *out, const float *in,
                      int32_t rank, const int64_t *dims, int64_t out_n) {
  reduceSum<true>(ctx, "reduce_norm2", out, in, rank, dims, out_n, fill_f32);
}

void reduce_max_f32(dpcrt_context *ctx, float *out, const float *in,
                    int32_t rank, const int64_t *dims, int64_t out_n,
                    int32_t min) {
  Strides reduced = {}, kept = {};
  int64_t reducedN = 1;
  switch (planReduction(ctx, "reduce_max", rank, dims, out_n, reduced, kept,
                        reducedN)) {
  case ReductionPlan::Skip:
    return;
  case ReductionPlan::EmptyInput:
    recordError(ctx, "reduce_max: empty reduction");
    return;
  case ReductionPlan::Launch:
    break;
  }
  int64_t threads = out_n * 32;
  reduceMaxKernel<<<gridFor(threads, kThreads), kThreads, 0,
                    computeStream(ctx)>>>(out, in, reduced, reducedN, kept,
                                          out_n, min != 0);
  launchFailed(ctx, "reduce_max");
}

void reduce_logsumexp_f32(dpcrt_context *ctx, float *out, const float *in,
                          int32_t rank, const int64_t *dims, int64_t out_n) {
  Strides reduced = {}, kept = {};
  int64_t reducedN = 1;
  switch (planReduction(ctx, "reduce_logsumexp", rank, dims, out_n, reduced,
                        kept, reducedN)) {
  case ReductionPlan::Skip:
    return;
  case ReductionPlan::EmptyInput:
    recordError(ctx, "reduce_logsumexp: empty reduction");
    return;
  case ReductionPlan::Launch:
    break;
  }
  int64_t threads = out_n * 32;
  reduceLogSumExpKernel<<<gridFor(threads, kThreads), kThreads, 0,
                          computeStream(ctx)>>>(out, in, reduced, reducedN,
                                                kept, out_n);
  launchFailed(ctx, "reduce_logsumexp");
}

void max_dim_f32(dpcrt_context *ctx, float *values, int64_t *indices,
                 const float *in, int64_t outer, int64_t size, int64_t inner,
                 int32_t min) {
  if (outer < 0 || inner < 0 || size < 1) {
    recordError(ctx, "max_dim: empty or negative extent");
    return;
  }
  launch(ctx, "max_dim", outer * inner, maxDimKernel, values, indices, in,
         outer, size, inner, min != 0);
}

void max_dim_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                      const int64_t *indices, int64_t outer, int64_t size,
                      int64_t inner) {
  if (outer < 0 || inner < 0 || size < 0) {
    recordError(ctx, "max_dim_grad: negative extent");
    return;
  }
  launch(ctx, "max_dim_grad", outer * size * inner, maxDimGradKernel, dx, dy,
         indices, outer, size, inner);
}

void cumsum_f32(dpcrt_context *ctx, float *out, const float *in, int64_t outer,
                int64_t size, int64_t inner, int32_t reverse) {
  if (outer <= 0 || size <= 0 || inner <= 0)
    return;
  launch(ctx, "cumsum", outer * inner, cumsumKernel, out, in, outer, size,
         inner, reverse != 0);
}

/// softmax_f32 and softmax_f64 (T float or double): a block per row where
/// the rows are contiguous, else a thread per (outer, inner) column.
template <typename T>
static void softmax(dpcrt_context *ctx, T *out, const T *in, int64_t outer,
                    int64_t size, int64_t inner, int32_t log) {
  if (size <= 0 || outer <= 0 || inner <= 0)
    return;
  cudaStream_t stream = computeStream(ctx);
  if (inner == 1 && outer <= INT_MAX)
    softmaxRowKernel<T><<<static_cast<unsigned>(outer), kBlock, 0, stream>>>(
        out, in, size, log != 0);
  else
    softmaxColumnKernel<T><<<gridFor(outer * inner), 256, 0, stream>>>(
        out, in, outer, size, inner, log != 0);
  launchFailed(ctx, "softmax");
}

/// softmax_grad_f32 and softmax_grad_f64, laid out as softmax.
template <typename T>
static void softmaxGrad(dpcrt_context *ctx, T *dx, const T *dy, const T *y,
                        int64_t outer, int64_t size, int64_t inner,
                        int32_t log) {
  if (size <= 0 || outer <= 0 || inner <= 0)
    return;
  cudaStream_t stream = computeStream(ctx);
  if (inner == 1 && outer <= INT_MAX)
    softmaxGradRowKernel<T>
        <<<static_cast<unsigned>(outer), kBlock, 0, stream>>>(dx, dy, y, size,
                                                              log != 0);
  else
    softmaxGradColumnKernel<T><<<gridFor(outer * inner), 256, 0, stream>>>(
        dx, dy, y, outer, size, inner, log != 0);
  launchFailed(ctx, "softmax_grad");
}

void softmax_f32(dpcrt_context *ctx, float *out, const float *in, int64_t outer,
                 int64_t size, int64_t inner, int32_t log) {
  softmax(ctx, out, in, outer, size, inner, log);
}

void softmax_f64(dpcrt_context *ctx, double *out, const double *in,
                 int64_t outer, int64_t size, int64_t inner, int32_t log) {
  softmax(ctx, out, in, outer, size, inner, log);
}

void softmax_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                      const float *y, int64_t outer, int64_t size,
                      int64_t inner, int32_t log) {
  softmaxGrad(ctx, dx, dy, y, outer, size, inner, log);
}

void softmax_grad_f64(dpcrt_context *ctx, double *dx, const double *dy,
                      const double *y, int64_t outer, int64_t size,
                      int64_t inner, int32_t log) {
  softmaxGrad(ctx, dx, dy, y, outer, size, inner, log);
}

} // namespace dpc::cuda
