//===- normalization_kernels.cpp - CPU kernels of batch and layer norm ----===//
//
// Batch normalization follows PyTorch's CPU kernels (torch 1.13,
// aten/src/ATen/native/{Normalization.cpp, cpu/batch_norm_kernel.cpp})
// operation by operation: the same accumulation types, the same order of
// float operations and fused multiply-adds exactly where PyTorch's AVX2
// build fuses them (explicit std::fma; this file is compiled with
// -ffp-contract=off so the compiler fuses nothing else). The batch-norm
// backward reproduces the 8-lane vector sums of PyTorch's vec::reduce_all;
// checked bitwise against torch. Layer and group normalization follow
// LayerNormKernelImpl and GroupNormKernelImpl formula by formula, their
// row moments in double.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using dpc::recordError;

namespace {

//===----------------------------------------------------------------------===//
// PyTorch's vector reductions (vec::reduce_all, vec::map2_reduce_all) with
// AVX2's 8 float lanes.
//===----------------------------------------------------------------------===//

constexpr int kLanes = 8;

/// The horizontal sum of a full vector: halves added pairwise.
float horizontalSum(float (&acc)[kLanes]) {
  for (int width = kLanes / 2; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i)
      acc[i] = acc[i] + acc[i + width];
  return acc[0];
}

/// vec::reduce_all(x + y, data, size).
float laneSum(const float *data, int64_t size) {
  if (size < kLanes) {
    // A partial vector is summed lane by lane.
    float s = size > 0 ? data[0] : 0.0f;
    for (int64_t i = 1; i < size; ++i)
      s = s + data[i];
    return s;
  }
  float acc[kLanes];
  std::copy(data, data + kLanes, acc);
  int64_t d = kLanes;
  for (; d < size - size % kLanes; d += kLanes)
    for (int i = 0; i < kLanes; ++i)
      acc[i] = acc[i] + data[d + i];
  for (int64_t i = 0; i < size - d; ++i)
    acc[i] = acc[i] + data[d + i];
  return horizontalSum(acc);
}

// The loops with std::fma are compiled twice, for CPUs with and without FMA
// instructions (the clone is picked when libdpcrt loads): both compute the
// same values, std::fma being exact either way, but without the FMA clone
// each one is a libm call.
#define DPC_FMA_CLONES __attribute__((target_clones("fma", "default")))

/// vec::map2_reduce_all((x - mean) * dy, x + y, x, dy, size), with the
/// multiply-add that GCC fuses in PyTorch's AVX2 build.
DPC_FMA_CLONES float laneDot(const float *x, float mean, const float *dy,
                             int64_t size) {
  if (size < kLanes) {
    float s = size > 0 ? (x[0] - mean) * dy[0] : 0.0f;
    for (int64_t i = 1; i < size; ++i)
      s = s + (x[i] - mean) * dy[i];
    return s;
  }
  float acc[kLanes];
  for (int i = 0; i < kLanes; ++i)
    acc[i] = (x[i] - mean) * dy[i];
  int64_t d = kLanes;
  for (; d < size - size % kLanes; d += kLanes)
    for (int i = 0; i < kLanes; ++i)
      acc[i] = std::fma(x[d + i] - mean, dy[d + i], acc[i]);
  for (int64_t i = 0; i < size - d; ++i)
    acc[i] = std::fma(x[d + i] - mean, dy[d + i], acc[i]);
  return horizontalSum(acc);
}

/// y = x * alpha + beta, fused (batch_norm_cpu_contiguous_impl).
DPC_FMA_CLONES void normalizePlane(float *y, const float *x, int64_t size,
                                   float alpha, float beta) {
  for (int64_t i = 0; i < size; ++i)
    y[i] = std::fma(x[i], alpha, beta);
}

/// dx = (dy - gradMean - (x - mean) * k) * invstd * w, the multiply-add
/// fused as in PyTorch's AVX2 build, the products in that order.
DPC_FMA_CLONES void batchNormGradPlane(float *dx, const float *dy,
                                       const float *x, int64_t size, float mean,
                                       float k, float gradMean, float invstd,
                                       float w) {
  for (int64_t i = 0; i < size; ++i)
    dx[i] = std::fma(-(x[i] - mean), k, dy[i] - gradMean) * invstd * w;
}

/// Mean and reciprocal standard deviation of one row, as torch's
/// LayerNormKernelImpl uses them: rstd = 1 / sqrt(max(var, 0) + eps) with
/// the biased variance, in float; the moments themselves are computed in
/// double (torch: a float Welford cascade), which is at least as accurate.
void rowMoments(const float *x, int64_t n, float eps, float &mean,
                float &rstd) {
  double sum = 0.0;
  for (int64_t j = 0; j < n; ++j)
    sum += x[j];
  double m = sum / static_cast<double>(n);
  double sq = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    double d = x[j] - m;
    sq += d * d;
  }
  float var = static_cast<float>(sq / static_cast<double>(n));
  mean = static_cast<float>(m);
  rstd = 1.0f / std::sqrt(std::max(var, 0.0f) + eps);
}

} // namespace

namespace dpc::cpu {

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
  float momentumF = static_cast<float>(momentum);
  for (int64_t ch = 0; ch < c; ++ch) {
    // batch_norm_cpu_collect_stats_contiguous_impl: double accumulators.
    double sum = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i)
        sum += x[i];
    }
    float mean = static_cast<float>(sum / static_cast<double>(count));
    double varSumAcc = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        float d = x[i] - mean;
        varSumAcc += d * d;
      }
    }
    float varSum = static_cast<float>(varSumAcc);

    // batch_norm_cpu_update_stats_template: InvStd<double> of the float
    // biased variance; running statistics in float, the unbiased variance
    // as a double.
    double var = varSum / static_cast<float>(count);
    float invstd = 0.0f;
    if (var != 0.0 || eps != 0.0)
      invstd = static_cast<float>(1.0 / std::sqrt(var + eps));
    saveMean[ch] = mean;
    saveInvstd[ch] = invstd;
    runningMean[ch] = momentumF * mean + (1.0f - momentumF) * runningMean[ch];
    double unbiased = varSum / static_cast<float>(count - 1);
    runningVar[ch] = static_cast<float>(momentumF * unbiased +
                                        (1.0f - momentumF) * runningVar[ch]);

    // batch_norm_cpu_contiguous_impl: y = x * alpha + beta, fused.
    float alpha = invstd * weight[ch];
    float beta = std::fma(-mean, alpha, bias[ch]);
    for (int64_t b = 0; b < n; ++b)
      normalizePlane(out + (b * c + ch) * inner, in + (b * c + ch) * inner,
                     inner, alpha, beta);
  }
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
  for (int64_t ch = 0; ch < c; ++ch) {
    float mean = saveMean[ch], invstd = saveInvstd[ch], w = weight[ch];
    double sum = 0.0, dotp = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      const float *g = dy + (b * c + ch) * inner;
      sum += laneSum(g, inner);
      dotp += laneDot(x, mean, g, inner);
    }
    float k =
        static_cast<float>(dotp) * invstd * invstd / static_cast<float>(count);
    float gradMean = static_cast<float>(sum / static_cast<double>(count));
    for (int64_t b = 0; b < n; ++b)
      batchNormGradPlane(dx + (b * c + ch) * inner, dy + (b * c + ch) * inner,
                         in + (b * c + ch) * inner, inner, mean, k, gradMean,
                         invstd, w);
    dweight[ch] = static_cast<float>(dotp * invstd);
    dbias[ch] = static_cast<float>(sum);
  }
}

void batch_norm_inference_f32(dpcrt_context *ctx, float *out, const float *in,
                              const float *weight, const float *bias,
                              const float *runningMean, const float *runningVar,
                              int64_t n, int64_t c, int64_t inner, double eps) {
  if (n < 0 || c < 0 || inner < 0) {
    recordError(ctx, "batch_norm_inference: negative size");
    return;
  }
  for (int64_t ch = 0; ch < c; ++ch) {
    // batch_norm_cpu_collect_linear_and_constant_terms, eval branch: float
    // throughout, eps rounded to float first.
    float invstd = 1.0f / std::sqrt(runningVar[ch] + static_cast<float>(eps));
    float alpha = invstd * weight[ch];
    float beta = std::fma(-runningMean[ch], alpha, bias[ch]);
    for (int64_t b = 0; b < n; ++b)
      normalizePlane(out + (b * c + ch) * inner, in + (b * c + ch) * inner,
                     inner, alpha, beta);
  }
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
  for (int64_t ch = 0; ch < c; ++ch) {
    // The backward's eval branch computes invstd in double (eps is a
    // double there), unlike the forward.
    float mean = runningMean[ch], w = weight[ch];
    float invstd = static_cast<float>(
        1.0 / std::sqrt(static_cast<double>(runningVar[ch]) + eps));
    double sum = 0.0, dotp = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      const float *g = dy + (b * c + ch) * inner;
      sum += laneSum(g, inner);
      dotp += laneDot(x, mean, g, inner);
    }
    for (int64_t b = 0; b < n; ++b) {
      const float *g = dy + (b * c + ch) * inner;
      float *d = dx + (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i)
        d[i] = g[i] * invstd * w;
    }
    dweight[ch] = static_cast<float>(dotp * invstd);
    dbias[ch] = static_cast<float>(sum);
  }
}

void increment_i64(dpcrt_context *, int64_t *data, int64_t n, int64_t amount) {
  for (int64_t i = 0; i < n; ++i)
    data[i] += amount;
}

void group_norm_f32(dpcrt_context *ctx, float *out, const float *in,
                    const float *weight, const float *bias, int64_t n,
                    int64_t c, int64_t inner, int64_t groups, float eps) {
  if (n < 0 || c < 0 || inner < 0 || groups <= 0 || c % groups != 0) {
    recordError(ctx, "group_norm: invalid shape [" + std::to_string(n) + ", " +
                         std::to_string(c) + ", " + std::to_string(inner) +
                         "] for " + std::to_string(groups) + " groups");
    return;
  }
  int64_t perGroup = c / groups, groupSize = perGroup * inner;
  if (groupSize == 0)
    return;
  // GroupNormKernelImplInternal: each (sample, group) is a contiguous row
  // of groupSize elements; per channel y = scale * x + bias with scale =
  // rstd * gamma and bias = -scale * mean + beta, in float.
  for (int64_t row = 0; row < n * groups; ++row) {
    const float *x = in + row * groupSize;
    float *y = out + row * groupSize;
    float mean, rstd;
    rowMoments(x, groupSize, eps, mean, rstd);
    int64_t firstChannel = (row % groups) * perGroup;
    for (int64_t j = 0; j < perGroup; ++j) {
      float scale = rstd * weight[firstChannel + j];
      float shift = -scale * mean + bias[firstChannel + j];
      const float *xc = x + j * inner;
      float *yc = y + j * inner;
      for (int64_t k = 0; k < inner; ++k)
        yc[k] = scale * xc[k] + shift;
    }
  }
}

void group_norm_grad_f32(dpcrt_context *ctx, float *dx, float *dweight,
                         float *dbias, const float *dy, const float *in,
                         const float *weight, int64_t n, int64_t c,
                         int64_t inner, int64_t groups, float eps) {
  if (n < 0 || c < 0 || inner < 0 || groups <= 0 || c % groups != 0) {
    recordError(ctx, "group_norm_grad: invalid shape [" + std::to_string(n) +
                         ", " + std::to_string(c) + ", " +
                         std::to_string(inner) + "] for " +
                         std::to_string(groups) + " groups");
    return;
  }
  int64_t perGroup = c / groups, groupSize = perGroup * inner;
  std::fill(dweight, dweight + c, 0.0f);
  std::fill(dbias, dbias + c, 0.0f);
  if (groupSize == 0)
    return;
  // GroupNormBackwardKernelImplInternal (torch 1.13): ds and db per (sample,
  // channel) (torch: vectorized float sums, here double), then dx per
  // (sample, group) and dgamma / dbeta summed in float over the samples in
  // order.
  float s = 1.0f / static_cast<float>(groupSize);
  std::vector<float> ds(static_cast<size_t>(perGroup)),
      db(static_cast<size_t>(perGroup));
  for (int64_t row = 0; row < n * groups; ++row) {
    const float *x = in + row * groupSize, *g = dy + row * groupSize;
    float *d = dx + row * groupSize;
    float mean, rstd;
    rowMoments(x, groupSize, eps, mean, rstd);
    int64_t firstChannel = (row % groups) * perGroup;
    float dsWeighted = 0.0f, dbWeighted = 0.0f;
    for (int64_t j = 0; j < perGroup; ++j) {
      const float *xc = x + j * inner, *gc = g + j * inner;
      double dsAcc = 0.0, dbAcc = 0.0;
      for (int64_t k = 0; k < inner; ++k) {
        dsAcc += gc[k] * xc[k];
        dbAcc += gc[k];
      }
      ds[j] = static_cast<float>(dsAcc);
      db[j] = static_cast<float>(dbAcc);
      float w = weight[firstChannel + j];
      dsWeighted += ds[j] * w;
      dbWeighted += db[j] * w;
      // GammaBackward / BetaBackward.
      dweight[firstChannel + j] += (ds[j] - db[j] * mean) * rstd;
      dbias[firstChannel + j] += db[j];
    }
    float c2 = (dbWeighted * mean - dsWeighted) * rstd * rstd * rstd * s;
    float c3 = -c2 * mean - dbWeighted * rstd * s;
    for (int64_t j = 0; j < perGroup; ++j) {
      float c1 = rstd * weight[firstChannel + j];
      const float *xc = x + j * inner, *gc = g + j * inner;
      float *dc = d + j * inner;
      for (int64_t k = 0; k < inner; ++k)
        dc[k] = c1 * gc[k] + c2 * xc[k] + c3;
    }
  }
}

void layer_norm_f32(dpcrt_context *, float *y, const float *x,
                    const float *gamma, const float *beta, int64_t rows,
                    int64_t cols, float eps) {
  for (int64_t i = 0; i < rows; ++i) {
    const float *xr = x + i * cols;
    float *yr = y + i * cols;
    float mean, rstd;
    rowMoments(xr, cols, eps, mean, rstd);
    // LayerNormKernelImplInternal: (x * scale + bias) * gamma + beta with
    // scale = rstd, bias = -rstd * mean.
    float scale = rstd, bias = -rstd * mean;
    for (int64_t j = 0; j < cols; ++j) {
      float g = gamma ? gamma[j] : 1.0f, b = beta ? beta[j] : 0.0f;
      yr[j] = (xr[j] * scale + bias) * g + b;
    }
  }
}

void layer_norm_grad_f32(dpcrt_context *, float *dx, float *dgamma,
                         float *dbeta, const float *dy, const float *x,
                         const float *gamma, int64_t rows, int64_t cols,
                         float eps) {
  // LayerNormBackwardKernelImplInternal (torch 1.13). dgamma and dbeta
  // accumulate in float over the rows in order, as torch does per column
  // (with one thread), so they agree bitwise; the row sums ds and db are
  // vectorized float sums in torch, here double.
  if (dgamma)
    std::fill(dgamma, dgamma + cols, 0.0f);
  if (dbeta)
    std::fill(dbeta, dbeta + cols, 0.0f);
  float scale = 1.0f / static_cast<float>(cols);
  for (int64_t i = 0; i < rows; ++i) {
    const float *xr = x + i * cols, *dyr = dy + i * cols;
    float *dxr = dx + i * cols;
    float mean, rstd;
    rowMoments(xr, cols, eps, mean, rstd);
    float a = rstd, b = -a * mean;
    double ds = 0.0, db = 0.0;
    for (int64_t j = 0; j < cols; ++j) {
      float g = gamma ? gamma[j] : 1.0f;
      ds += dyr[j] * xr[j] * g;
      db += dyr[j] * g;
      if (dgamma)
        dgamma[j] = dgamma[j] + dyr[j] * (a * xr[j] + b);
      if (dbeta)
        dbeta[j] = dbeta[j] + dyr[j];
    }
    float dsF = static_cast<float>(ds), dbF = static_cast<float>(db);
    float bx = (dbF * mean - dsF) * a * a * a * scale;
    float c = -bx * mean - dbF * a * scale;
    for (int64_t j = 0; j < cols; ++j) {
      float g = gamma ? gamma[j] : 1.0f;
      dxr[j] = a * dyr[j] * g + bx * xr[j] + c;
    }
  }
}

} // namespace dpc::cpu
