//===- normalization_kernels.cu - CUDA kernels of batch, group, layer norm ===//
//
// The CUDA counterparts of cpu/normalization_kernels.cpp, operation by
// operation. Where the CPU adds in a fixed order in float (the batch-norm
// backward's 8-lane sums, layer norm's dgamma/dbeta over rows), the kernels
// here add in that same order (one thread owns each such sum), so they
// agree bitwise. Sums the CPU accumulates in double become deterministic
// tree reductions in double, which round to the same float except in rare
// ties. No atomics on floats, fixed block sizes, fixed reduction trees.
//
// Like the CPU kernels (-ffp-contract=off), this file must be compiled with
// -fmad=false and without --use_fast_math: fused multiply-adds appear only
// where written (__fmaf_rn, where the CPU calls std::fma), and division and
// sqrt are IEEE-rounded.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

#include <climits>
#include <cmath>
#include <string>

namespace dpc::cuda {
namespace {

__global__ void incrementKernel(int64_t *data, int64_t n, int64_t amount) {
  DPC_GRID_STRIDE(i, n) data[i] += amount;
}

//===----------------------------------------------------------------------===//
// Batch normalization
//===----------------------------------------------------------------------===//

/// One block per channel: the statistics (double tree sums, then the CPU's
/// float/double rounding steps verbatim), the running statistics, then the
/// fused normalization.
__global__ void batchNormKernel(float *out, float *saveMean, float *saveInvstd,
                                float *runningMean, float *runningVar,
                                const float *in, const float *weight,
                                const float *bias, int64_t n, int64_t c,
                                int64_t inner, float momentumF, double eps) {
  __shared__ double shared[kBlock];
  __shared__ float alphaBeta[2];
  int64_t ch = blockIdx.x, count = n * inner;
  auto at = [&](int64_t e) {
    return ((e / inner) * c + ch) * inner + e % inner;
  };

  double sum = 0.0;
  for (int64_t e = threadIdx.x; e < count; e += kBlock)
    sum += in[at(e)];
  sum = blockSum(sum, shared);
  float mean = static_cast<float>(sum / static_cast<double>(count));

  double varSumAcc = 0.0;
  for (int64_t e = threadIdx.x; e < count; e += kBlock) {
    float d = in[at(e)] - mean;
    varSumAcc += d * d; // a float product, as on the CPU
  }
  varSumAcc = blockSum(varSumAcc, shared);

  if (threadIdx.x == 0) {
    float varSum = static_cast<float>(varSumAcc);
    double var = varSum / static_cast<float>(count);
    float invstd = 0.0f;
    if (var != 0.0 || eps != 0.0)
      invstd = static_cast<float>(1.0 / sqrt(var + eps));
    saveMean[ch] = mean;
    saveInvstd[ch] = invstd;
    runningMean[ch] = momentumF * mean + (1.0f - momentumF) * runningMean[ch];
    double unbiased = varSum / static_cast<float>(count - 1);
    runningVar[ch] = static_cast<float>(momentumF * unbiased +
                                        (1.0f - momentumF) * runningVar[ch]);
    float alpha = invstd * weight[ch];
    alphaBeta[0] = alpha;
    alphaBeta[1] = __fmaf_rn(-mean, alpha, bias[ch]);
  }
  __syncthreads();
  float alpha = alphaBeta[0], beta = alphaBeta[1];
  for (int64_t e = threadIdx.x; e < count; e += kBlock) {
    int64_t i = at(e);
    out[i] = __fmaf_rn(in[i], alpha, beta);
  }
}

/// Evaluation mode, one thread per element: alpha and beta recomputed per
/// element with the CPU's float operations (cheap next to the memory
/// traffic, and the same values everywhere).
__global__ void batchNormInferenceKernel(float *out, const float *in,
                                         const float *weight, const float *bias,
                                         const float *runningMean,
                                         const float *runningVar, int64_t total,
                                         int64_t c, int64_t inner, float eps) {
  DPC_GRID_STRIDE(i, total) {
    int64_t ch = (i / inner) % c;
    float invstd = 1.0f / sqrtf(runningVar[ch] + eps);
    float alpha = invstd * weight[ch];
    float beta = __fmaf_rn(-runningMean[ch], alpha, bias[ch]);
    out[i] = __fmaf_rn(in[i], alpha, beta);
  }
}

constexpr int kLanes = 8;
/// Planes of one channel the backward kernel sums at once: 8 threads (one
/// per vector lane) each.
constexpr int kPlanesPerBlock = kBlock / kLanes;

/// One block per channel. PyTorch's vec::reduce_all and map2_reduce_all
/// sum each plane (sample) in 8 float lanes, then add the lanes pairwise;
/// here the 8 lanes of a plane are 8 consecutive threads, each running its
/// lane's sequential chain, and the pairwise halving is done with warp
/// shuffles, which performs the same float additions. The per-plane
/// results are then added in double in sample order by one thread, as the
/// CPU does, so the sums, and therefore every output, agree bitwise.
///
/// kInference: the evaluation-mode backward. `mean` is the running mean and
/// `invstdOrVar` the running variance, whose invstd is computed in double
/// as the CPU does; dx = dy * invstd * w.
template <bool kInference>
__global__ void batchNormGradKernel(float *dx, float *dweight, float *dbias,
                                    const float *dy, const float *in,
                                    const float *weight, const float *saveMean,
                                    const float *invstdOrVar, int64_t n,
                                    int64_t c, int64_t inner, double eps) {
  __shared__ float planeSum[kPlanesPerBlock], planeDot[kPlanesPerBlock];
  __shared__ double totals[2];
  int64_t ch = blockIdx.x, count = n * inner;
  float mean = saveMean[ch], w = weight[ch];
  float invstd =
      kInference ? static_cast<float>(
                       1.0 / sqrt(static_cast<double>(invstdOrVar[ch]) + eps))
                 : invstdOrVar[ch];
  int lane = threadIdx.x % kLanes, slot = threadIdx.x / kLanes;
  double sum = 0.0, dotp = 0.0; // meaningful in thread 0 only
  for (int64_t b0 = 0; b0 < n; b0 += kPlanesPerBlock) {
    int64_t b = b0 + slot;
    float s = 0.0f, d = 0.0f;
    if (b < n) {
      const float *x = in + (b * c + ch) * inner;
      const float *g = dy + (b * c + ch) * inner;
      if (inner < kLanes) {
        // A partial vector: summed lane by lane, unfused (lane 0 only).
        if (lane == 0 && inner > 0) {
          s = g[0];
          d = (x[0] - mean) * g[0];
          for (int64_t i = 1; i < inner; ++i) {
            s = s + g[i];
            d = d + (x[i] - mean) * g[i];
          }
        }
      } else {
        // Lane `lane` of the vector accumulators: the first full vector
        // initializes it, later full vectors and the tail add into it.
        s = g[lane];
        d = (x[lane] - mean) * g[lane];
        int64_t full = inner - inner % kLanes;
        int64_t i = kLanes + lane;
        for (; i < full; i += kLanes) {
          s = s + g[i];
          d = __fmaf_rn(x[i] - mean, g[i], d);
        }
        if (i < inner) { // the tail touches lanes [0, inner - full)
          s = s + g[i];
          d = __fmaf_rn(x[i] - mean, g[i], d);
        }
      }
    }
    if (inner >= kLanes) {
      // horizontalSum: acc[i] = acc[i] + acc[i + width], width 4, 2, 1.
      for (int width = kLanes / 2; width >= 1; width /= 2) {
        float so = __shfl_down_sync(0xffffffffu, s, width, kLanes);
        float dd = __shfl_down_sync(0xffffffffu, d, width, kLanes);
        s = s + so;
        d = d + dd;
      }
    }
    if (lane == 0) {
      planeSum[slot] = s;
      planeDot[slot] = d;
    }
    __syncthreads();
    if (threadIdx.x == 0)
      for (int j = 0; j < kPlanesPerBlock && b0 + j < n; ++j) {
        sum += planeSum[j];
        dotp += planeDot[j];
      }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    totals[0] = sum;
    totals[1] = dotp;
    dweight[ch] = static_cast<float>(dotp * invstd);
    dbias[ch] = static_cast<float>(sum);
  }
  __syncthreads();
  if (kInference) {
    for (int64_t e = threadIdx.x; e < count; e += kBlock) {
      int64_t i = ((e / inner) * c + ch) * inner + e % inner;
      dx[i] = dy[i] * invstd * w;
    }
    return;
  }
  sum = totals[0];
  dotp = totals[1];
  float k =
      static_cast<float>(dotp) * invstd * invstd / static_cast<float>(count);
  float gradMean = static_cast<float>(sum / static_cast<double>(count));
  for (int64_t e = threadIdx.x; e < count; e += kBlock) {
    int64_t i = ((e / inner) * c + ch) * inner + e % inner;
    dx[i] = __fmaf_rn(-(in[i] - mean), k, dy[i] - gradMean) * invstd * w;
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
// Group normalization
//===----------------------------------------------------------------------===//

/// One block per (sample, group) row of groupSize = perGroup * inner
/// elements.
__global__ void groupNormKernel(float *out, const float *in,
                                const float *weight, const float *bias,
                                int64_t groups, int64_t perGroup, int64_t inner,
                                float eps) {
  __shared__ double shared[kBlock];
  int64_t row = blockIdx.x, groupSize = perGroup * inner;
  const float *x = in + row * groupSize;
  float *y = out + row * groupSize;
  float mean, rstd;
  rowMoments(x, groupSize, eps, shared, mean, rstd);
  int64_t firstChannel = (row % groups) * perGroup;
  for (int64_t i = threadIdx.x; i < groupSize; i += kBlock) {
    int64_t ch = firstChannel + i / inner;
    float scale = rstd * weight[ch];
    float shift = -scale * mean + bias[ch];
    y[i] = scale * x[i] + shift;
  }
}

/// One block per (sample, group) row: dx, and for the weight and bias
/// gradients each (sample, channel)'s ds and db and the row's mean and rstd.
__global__ void groupNormGradRowKernel(float *dx, float *dsOut, float *dbOut,
                                       float *rowMean, float *rowRstd,
                                       const float *dy, const float *in,
                                       const float *weight, int64_t groups,
                                       int64_t perGroup, int64_t inner,
                                       float eps) {
  __shared__ double shared[kBlock];
  int64_t row = blockIdx.x, groupSize = perGroup * inner;
  const float *x = in + row * groupSize, *g = dy + row * groupSize;
  float mean, rstd;
  rowMoments(x, groupSize, eps, shared, mean, rstd);
  int64_t firstChannel = (row % groups) * perGroup;
  // As the CPU: per channel double sums rounded to float, then the
  // weighted float sums over the group's channels in order.
  float dsWeighted = 0.0f, dbWeighted = 0.0f;
  for (int64_t j = 0; j < perGroup; ++j) {
    double dsAcc = 0.0, dbAcc = 0.0;
    for (int64_t k = threadIdx.x; k < inner; k += kBlock) {
      dsAcc += g[j * inner + k] * x[j * inner + k];
      dbAcc += g[j * inner + k];
    }
    dsAcc = blockSum(dsAcc, shared);
    dbAcc = blockSum(dbAcc, shared);
    float ds = static_cast<float>(dsAcc), db = static_cast<float>(dbAcc);
    float w = weight[firstChannel + j];
    dsWeighted += ds * w;
    dbWeighted += db * w;
    if (threadIdx.x == 0) {
      dsOut[row * perGroup + j] = ds;
      dbOut[row * perGroup + j] = db;
    }
  }
  float s = 1.0f / static_cast<float>(groupSize);
  float c2 = (dbWeighted * mean - dsWeighted) * rstd * rstd * rstd * s;
  float c3 = -c2 * mean - dbWeighted * rstd * s;
  for (int64_t i = threadIdx.x; i < groupSize; i += kBlock) {
    float c1 = rstd * weight[firstChannel + i / inner];
    dx[row * groupSize + i] = c1 * g[i] + c2 * x[i] + c3;
  }
  if (threadIdx.x == 0) {
    rowMean[row] = mean;
    rowRstd[row] = rstd;
  }
}

/// One thread per channel: dweight and dbias summed in float over the
/// samples in order, as the CPU does.
__global__ void groupNormGradChannelKernel(float *dweight, float *dbias,
                                           const float *ds, const float *db,
                                           const float *rowMean,
                                           const float *rowRstd, int64_t n,
                                           int64_t c, int64_t groups) {
  int64_t perGroup = c / groups;
  DPC_GRID_STRIDE(ch, c) {
    float sw = 0.0f, sb = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      int64_t row = i * groups + ch / perGroup;
      sw += (ds[i * c + ch] - db[i * c + ch] * rowMean[row]) * rowRstd[row];
      sb += db[i * c + ch];
    }
    dweight[ch] = sw;
    dbias[ch] = sb;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void batch_norm_f32(dpcrt_context *ctx, float *out, float *saveMean,
                    float *saveInvstd, float *runningMean, float *runningVar,
                    const float *in, const float *weight, const float *bias,
                    int64_t n, int64_t c, int64_t inner, double momentum,
                    double eps) {
  int64_t count = n * inner;
  if (n < 0 || c < 0 || inner < 0 || count < 2) {
    recordError(ctx, "batch_norm: expected more than 1 value per channel "
                     "when training, got " +
                         std::to_string(count));
    return;
  }
  if (c == 0)
    return;
  if (c > INT_MAX) {
    recordError(ctx, "batch_norm: too many channels");
    return;
  }
  batchNormKernel<<<static_cast<unsigned>(c), kBlock, 0, computeStream(ctx)>>>(
      out, saveMean, saveInvstd, runningMean, runningVar, in, weight, bias, n,
      c, inner, static_cast<float>(momentum), eps);
  launchFailed(ctx, "batch_norm");
}

void batch_norm_grad_f32(dpcrt_context *ctx, float *dx, float *dweight,
                         float *dbias, const float *dy, const float *in,
                         const float *weight, const float *saveMean,
                         const float *saveInvstd, int64_t n, int64_t c,
                         int64_t inner) {
  int64_t count = n * inner;
  if (n < 0 || c < 0 || inner < 0 || count < 1) {
    recordError(ctx, "batch_norm_grad: empty input");
    return;
  }
  if (c == 0)
    return;
  if (c > INT_MAX) {
    recordError(ctx, "batch_norm_grad: too many channels");
    return;
  }
  batchNormGradKernel<false>
      <<<static_cast<unsigned>(c), kBlock, 0, computeStream(ctx)>>>(
          dx, dweight, dbias, dy, in, weight, saveMean, saveInvstd, n, c, inner,
          0.0);
  launchFailed(ctx, "batch_norm_grad");
}

void batch_norm_inference_f32(dpcrt_context *ctx, float *out, const float *in,
                              const float *weight, const float *bias,
                              const float *runningMean, const float *runningVar,
                              int64_t n, int64_t c, int64_t inner, double eps) {
  if (n < 0 || c < 0 || inner < 0) {
    recordError(ctx, "batch_norm_inference: negative size");
    return;
  }
  launch(ctx, "batch_norm_inference", n * c * inner, batchNormInferenceKernel,
         out, in, weight, bias, runningMean, runningVar, n * c * inner, c,
         inner, static_cast<float>(eps));
}

void batch_norm_inference_grad_f32(dpcrt_context *ctx, float *dx,
                                   float *dweight, float *dbias,
                                   const float *dy, const float *in,
                                   const float *weight,
                                   const float *runningMean,
                                   const float *runningVar, int64_t n,
                                   int64_t c, int64_t inner, double eps) {
  if (n < 0 || c < 0 || inner < 0) {
    recordError(ctx, "batch_norm_inference_grad: negative size");
    return;
  }
  if (c == 0)
    return;
  if (c > INT_MAX) {
    recordError(ctx, "batch_norm_inference_grad: too many channels");
    return;
  }
  batchNormGradKernel<true>
      <<<static_cast<unsigned>(c), kBlock, 0, computeStream(ctx)>>>(
          dx, dweight, dbias, dy, in, weight, runningMean, runningVar, n, c,
          inner, eps);
  launchFailed(ctx, "batch_norm_inference_grad");
}

void increment_i64(dpcrt_context *ctx, int64_t *data, int64_t n,
                   int64_t amount) {
  launch(ctx, "increment", n, incrementKernel, data, n, amount);
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

static bool validGroupNorm(dpcrt_context *ctx, const char *kernel, int64_t n,
                           int64_t c, int64_t inner, int64_t groups) {
  if (n < 0 || c < 0 || inner < 0 || groups <= 0 || c % groups != 0) {
    recordError(ctx, std::string(kernel) + ": invalid shape [" +
                         std::to_string(n) + ", " + std::to_string(c) + ", " +
                         std::to_string(inner) + "] for " +
                         std::to_string(groups) + " groups");
    return false;
  }
  if (n * groups > INT_MAX) {
    recordError(ctx, std::string(kernel) + ": too many groups");
    return false;
  }
  return true;
}

void group_norm_f32(dpcrt_context *ctx, float *out, const float *in,
                    const float *weight, const float *bias, int64_t n,
                    int64_t c, int64_t inner, int64_t groups, float eps) {
  if (!validGroupNorm(ctx, "group_norm", n, c, inner, groups) || n == 0 ||
      c == 0 || inner == 0)
    return;
  groupNormKernel<<<static_cast<unsigned>(n * groups), kBlock, 0,
                    computeStream(ctx)>>>(out, in, weight, bias, groups,
                                          c / groups, inner, eps);
  launchFailed(ctx, "group_norm");
}

void group_norm_grad_f32(dpcrt_context *ctx, float *dx, float *dweight,
                         float *dbias, const float *dy, const float *in,
                         const float *weight, int64_t n, int64_t c,
                         int64_t inner, int64_t groups, float eps) {
  if (!validGroupNorm(ctx, "group_norm_grad", n, c, inner, groups) || c == 0)
    return;
  cudaStream_t stream = computeStream(ctx);
  if (n == 0 || inner == 0) {
    // Every output is overwritten: the sums of nothing are zeros.
    for (float *p : {dweight, dbias})
      if (failed(ctx,
                 cudaMemsetAsync(p, 0, static_cast<size_t>(c) * sizeof(float),
                                 stream),
                 "group_norm_grad: cudaMemsetAsync"))
        return;
    return;
  }
  // ds and db per (sample, channel), mean and rstd per (sample, group).
  size_t floats =
      2 * static_cast<size_t>(n * c) + 2 * static_cast<size_t>(n * groups);
  auto *ds = static_cast<float *>(scratch(ctx, floats * sizeof(float)));
  if (!ds)
    return;
  float *db = ds + n * c, *rowMean = db + n * c,
        *rowRstd = rowMean + n * groups;
  groupNormGradRowKernel<<<static_cast<unsigned>(n * groups), kBlock, 0,
                           stream>>>(dx, ds, db, rowMean, rowRstd, dy, in,
                                     weight, groups, c / groups, inner, eps);
  if (launchFailed(ctx, "group_norm_grad"))
    return;
  groupNormGradChannelKernel<<<gridFor(c, 128), 128, 0, stream>>>(
      dweight, dbias, ds, db, rowMean, rowRstd, n, c, groups);
  launchFailed(ctx, "group_norm_grad: channels");
}

} // namespace dpc::cuda
