//===- kernels_transformer.cu - CUDA kernels of the transformer ops -------===//
//
// The CUDA counterparts of the embedding, layer-norm, GELU, softmax and NLL
// kernels of cpu/kernels_transformer.cpp, with the same ABI semantics
// (abi.h). Each follows the CPU kernel formula by formula:
//
//  - Sums the CPU accumulates in float in a fixed order (the embedding
//    gradient's scatter-add, layer norm's dgamma/dbeta over rows) are done
//    by one thread per output element in that same order: bitwise equal.
//  - Sums the CPU accumulates in double (row moments, softmax sums, the NLL
//    mean) are deterministic tree reductions in double here; both round to
//    the same float except in rare near-ties.
//  - exp, log, erf and tanh are evaluated in double and rounded to float
//    (CUDA's float versions are only accurate to 2 ulp). The CPU kernels
//    call glibc for log-softmax and the losses (within about half an ulp)
//    and oneDNN's vectorized approximations for GELU and softmax (within
//    about 3e-7 of the exact values), so results agree to about that.
//  - Out-of-range indices and labels are reported through the context's
//    device error record, never by synchronizing (checkRange).
//
// Nothing uses floating-point atomics, so every kernel is deterministic.
// Like the CPU kernels (-ffp-contract=off) this file must be compiled with
// -fmad=false and without --use_fast_math.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

#include <climits>
#include <cmath>
#include <string>

using dpc::recordError;

namespace dpc::cuda {
namespace {

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

// glibc-like float transcendentals (see the file comment).
__device__ float expF(float v) { return static_cast<float>(exp(double(v))); }
__device__ float logF(float v) { return static_cast<float>(log(double(v))); }
__device__ float erfF(float v) { return static_cast<float>(erf(double(v))); }
__device__ float tanhF(float v) { return static_cast<float>(tanh(double(v))); }

//===----------------------------------------------------------------------===//
// Index checks
//===----------------------------------------------------------------------===//

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

/// Reports the first indices[s] (s < n) outside [0, limit), if any, to the
/// context's device error record, which the session reads after the step's
/// synchronization and turns into the CPU kernel's message (as for
/// cross_entropy's labels): the check never synchronizes the stream. The
/// kernels below skip such entries (or produce NaN) instead of reading out
/// of bounds; the step then fails with the message.
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

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Layer normalization
//===----------------------------------------------------------------------===//

/// rowMoments of the CPU kernels: double moments (two passes), float mean
/// and rstd = 1 / sqrt(max(var, 0) + eps). Called by the whole block.
__device__ void rowMoments(const float *x, int64_t cols, float eps,
                           double *shared, float &mean, float &rstd) {
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < cols; j += kBlock)
    sum += x[j];
  sum = blockSum(sum, shared);
  double m = sum / static_cast<double>(cols);
  double sq = 0.0;
  for (int64_t j = threadIdx.x; j < cols; j += kBlock) {
    double d = x[j] - m;
    sq += d * d;
  }
  sq = blockSum(sq, shared);
  float var = static_cast<float>(sq / static_cast<double>(cols));
  mean = static_cast<float>(m);
  // std::max(var, 0.0f) keeps a NaN variance (fmaxf would not).
  rstd = 1.0f / sqrtf((var < 0.0f ? 0.0f : var) + eps);
}

__global__ void layerNormKernel(float *y, const float *x, const float *gamma,
                                const float *beta, int64_t cols, float eps) {
  __shared__ double shared[kBlock];
  const float *xr = x + blockIdx.x * cols;
  float *yr = y + blockIdx.x * cols;
  float mean, rstd;
  rowMoments(xr, cols, eps, shared, mean, rstd);
  float scale = rstd, bias = -rstd * mean;
  for (int64_t j = threadIdx.x; j < cols; j += kBlock) {
    float g = gamma ? gamma[j] : 1.0f, b = beta ? beta[j] : 0.0f;
    yr[j] = (xr[j] * scale + bias) * g + b;
  }
}

/// One block per row: dx, and the row's mean and rstd for the column sums.
__global__ void layerNormGradRowKernel(float *dx, float *rowMean,
                                       float *rowRstd, const float *dy,
                                       const float *x, const float *gamma,
                                       int64_t cols, float eps) {
  __shared__ double shared[kBlock];
  int64_t row = blockIdx.x;
  const float *xr = x + row * cols, *dyr = dy + row * cols;
  float *dxr = dx + row * cols;
  float mean, rstd;
  rowMoments(xr, cols, eps, shared, mean, rstd);
  double ds = 0.0, db = 0.0;
  for (int64_t j = threadIdx.x; j < cols; j += kBlock) {
    float g = gamma ? gamma[j] : 1.0f;
    ds += dyr[j] * xr[j] * g; // float products, as on the CPU
    db += dyr[j] * g;
  }
  ds = blockSum(ds, shared);
  db = blockSum(db, shared);
  float a = rstd, scale = 1.0f / static_cast<float>(cols);
  float dsF = static_cast<float>(ds), dbF = static_cast<float>(db);
  float bx = (dbF * mean - dsF) * a * a * a * scale;
  float c = -bx * mean - dbF * a * scale;
  for (int64_t j = threadIdx.x; j < cols; j += kBlock) {
    float g = gamma ? gamma[j] : 1.0f;
    dxr[j] = a * dyr[j] * g + bx * xr[j] + c;
  }
  if (threadIdx.x == 0 && rowMean) {
    rowMean[row] = mean;
    rowRstd[row] = rstd;
  }
}

/// One thread per column: dgamma and dbeta summed in float over the rows
/// in order, as the CPU does.
__global__ void layerNormGradColumnKernel(float *dgamma, float *dbeta,
                                          const float *dy, const float *x,
                                          const float *rowMean,
                                          const float *rowRstd, int64_t rows,
                                          int64_t cols) {
  DPC_GRID_STRIDE(j, cols) {
    float sg = 0.0f, sb = 0.0f;
    for (int64_t i = 0; i < rows; ++i) {
      float a = rowRstd[i], b = -a * rowMean[i];
      float g = dy[i * cols + j];
      sg = sg + g * (a * x[i * cols + j] + b);
      sb = sb + g;
    }
    if (dgamma)
      dgamma[j] = sg;
    if (dbeta)
      dbeta[j] = sb;
  }
}

//===----------------------------------------------------------------------===//
// GELU
//===----------------------------------------------------------------------===//

// The constants of torch's GeluKernel / GeluBackwardKernel, as on the CPU.
constexpr float kSqrt1_2 = 0.70710678118654752440f;
constexpr float kBetaErf = 0.39894228040143267794f;
constexpr float kBetaTanh = 0.79788456080286535588f;
constexpr float kKappa = 0.044715f;

__global__ void geluKernel(bool tanhForm, float *out, const float *in,
                           int64_t n) {
  DPC_GRID_STRIDE(i, n) {
    float x = in[i];
    if (!tanhForm) {
      out[i] = x * 0.5f * (1.0f + erfF(x * kSqrt1_2));
    } else {
      float inner = kBetaTanh * (x + kKappa * (x * x * x));
      out[i] = 0.5f * x * (1.0f + tanhF(inner));
    }
  }
}

__global__ void geluGradKernel(bool tanhForm, float *dx, const float *dy,
                               const float *xs, int64_t n) {
  DPC_GRID_STRIDE(i, n) {
    float v = xs[i];
    if (!tanhForm) {
      float cdf = 0.5f * (1.0f + erfF(v * kSqrt1_2));
      float pdf = kBetaErf * expF(v * v * -0.5f);
      dx[i] = dy[i] * (cdf + v * pdf);
    } else {
      float sq = v * v, cube = sq * v;
      float inner = kBetaTanh * (v + kKappa * cube);
      float t = tanhF(inner);
      float left = 0.5f * v, right = 1.0f + t;
      float leftDerivative = 0.5f * right;
      float tanhDerivative = 1.0f - t * t;
      float innerDerivative = kBetaTanh * (1.0f + 3.0f * kKappa * sq);
      float rightDerivative = left * tanhDerivative * innerDerivative;
      dx[i] = dy[i] * (leftDerivative + rightDerivative);
    }
  }
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// NLL loss
//===----------------------------------------------------------------------===//

/// One block: the mean of -input[i, labels[i]], a double tree sum.
__global__ void nllLossKernel(float *loss, const float *input,
                              const int64_t *labels, int64_t n, int64_t c) {
  __shared__ double shared[kBlock];
  double total = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kBlock) {
    int64_t label = labels[i];
    total -= label < 0 || label >= c ? NAN : input[i * c + label];
  }
  total = blockSum(total, shared);
  if (threadIdx.x == 0)
    loss[0] = static_cast<float>(total / static_cast<double>(n));
}

__global__ void nllLossGradKernel(float *dinput, const float *dloss,
                                  const int64_t *labels, int64_t n, int64_t c) {
  float g = -(dloss[0] / static_cast<float>(n));
  DPC_GRID_STRIDE(i, n) {
    int64_t label = labels[i];
    if (label >= 0 && label < c)
      dinput[i * c + label] = g;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

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

void layer_norm_f32(dpcrt_context *ctx, float *y, const float *x,
                    const float *gamma, const float *beta, int64_t rows,
                    int64_t cols, float eps) {
  if (rows <= 0 || cols <= 0)
    return;
  if (rows > INT_MAX) {
    recordError(ctx, "layer_norm: too many rows");
    return;
  }
  layerNormKernel<<<static_cast<unsigned>(rows), kBlock, 0,
                    computeStream(ctx)>>>(y, x, gamma, beta, cols, eps);
  launchFailed(ctx, "layer_norm");
}

void layer_norm_grad_f32(dpcrt_context *ctx, float *dx, float *dgamma,
                         float *dbeta, const float *dy, const float *x,
                         const float *gamma, int64_t rows, int64_t cols,
                         float eps) {
  if (cols <= 0 || rows < 0)
    return;
  cudaStream_t stream = computeStream(ctx);
  if (rows == 0) {
    // Every output is overwritten: the column sums of no rows are zeros.
    for (float *p : {dgamma, dbeta})
      if (p &&
          failed(ctx,
                 cudaMemsetAsync(
                     p, 0, static_cast<size_t>(cols) * sizeof(float), stream),
                 "layer_norm_grad: cudaMemsetAsync"))
        return;
    return;
  }
  if (rows > INT_MAX) {
    recordError(ctx, "layer_norm_grad: too many rows");
    return;
  }
  float *rowMean = nullptr, *rowRstd = nullptr;
  if (dgamma || dbeta) {
    rowMean = static_cast<float *>(
        scratch(ctx, 2 * static_cast<size_t>(rows) * sizeof(float)));
    if (!rowMean)
      return;
    rowRstd = rowMean + rows;
  }
  layerNormGradRowKernel<<<static_cast<unsigned>(rows), kBlock, 0, stream>>>(
      dx, rowMean, rowRstd, dy, x, gamma, cols, eps);
  if (launchFailed(ctx, "layer_norm_grad") || !rowMean)
    return;
  layerNormGradColumnKernel<<<gridFor(cols, 128), 128, 0, stream>>>(
      dgamma, dbeta, dy, x, rowMean, rowRstd, rows, cols);
  launchFailed(ctx, "layer_norm_grad: columns");
}

void gelu_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
              int64_t n) {
  if (kind != DPCRT_GELU_ERF && kind != DPCRT_GELU_TANH) {
    recordError(ctx, "gelu: unknown kind " + std::to_string(kind));
    return;
  }
  if (n <= 0)
    return;
  geluKernel<<<gridFor(n), 256, 0, computeStream(ctx)>>>(
      kind == DPCRT_GELU_TANH, out, in, n);
  launchFailed(ctx, "gelu");
}

void gelu_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx, const float *dy,
                   const float *x, int64_t n) {
  if (kind != DPCRT_GELU_ERF && kind != DPCRT_GELU_TANH) {
    recordError(ctx, "gelu_grad: unknown kind " + std::to_string(kind));
    return;
  }
  if (n <= 0)
    return;
  geluGradKernel<<<gridFor(n), 256, 0, computeStream(ctx)>>>(
      kind == DPCRT_GELU_TANH, dx, dy, x, n);
  launchFailed(ctx, "gelu_grad");
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

void nll_loss_f32(dpcrt_context *ctx, float *loss, const float *input,
                  const int64_t *labels, int64_t n, int64_t c) {
  checkRange(ctx, kNllLossLabel, "nll_loss", labels, n, c);
  nllLossKernel<<<1, kBlock, 0, computeStream(ctx)>>>(
      loss, input, labels, std::max<int64_t>(n, 0), c);
  launchFailed(ctx, "nll_loss");
}

void nll_loss_grad_f32(dpcrt_context *ctx, float *dinput, const float *dloss,
                       const int64_t *labels, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0)
    return;
  checkRange(ctx, kNllLossGradLabel, "nll_loss_grad", labels, n, c);
  cudaStream_t stream = computeStream(ctx);
  if (failed(ctx,
             cudaMemsetAsync(
                 dinput, 0, static_cast<size_t>(n * c) * sizeof(float), stream),
             "nll_loss_grad: cudaMemsetAsync"))
    return;
  nllLossGradKernel<<<gridFor(n), 256, 0, stream>>>(dinput, dloss, labels, n,
                                                    c);
  launchFailed(ctx, "nll_loss_grad");
}

} // namespace dpc::cuda
