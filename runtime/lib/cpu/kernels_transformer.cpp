//===- kernels_transformer.cpp - CPU kernels of the transformer ops -------===//
//
// Embedding lookups and their scatter-add, layer normalization, GELU,
// softmax, masks, batched GEMMs and strided copies (permute, slice, split,
// concat, broadcast). As in kernels_core.cpp, each kernel follows PyTorch's
// CPU kernel formula by formula (torch 1.13, aten/src/ATen/native/cpu), and
// sums accumulate in double where torch uses a vectorized float sum, so
// results agree with torch to a few float32 ulps and do not depend on the
// vector width. GELU and softmax (not log-softmax) run on oneDNN instead
// (dnnl_eltwise.cpp): scalar std::erf/std::exp per element made them 5-8x
// slower than torch's vectorized kernels; they agree with double to 1e-6.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/dnnl_eltwise.h"
#include "kernel_shared.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using dpc::recordError;

namespace {

/// Calls `body(offsetA, offsetB)` for every index of `shape` in row-major
/// order, with the offsets of two strided operands.
template <typename Body>
void forEachIndex(int32_t rank, const int64_t *shape, const int64_t *strideA,
                  const int64_t *strideB, Body body) {
  for (int32_t d = 0; d < rank; ++d)
    if (shape[d] <= 0)
      return;
  std::vector<int64_t> index(rank, 0);
  int64_t offA = 0, offB = 0;
  while (true) {
    body(offA, offB);
    int32_t d = rank - 1;
    for (; d >= 0; --d) {
      offA += strideA[d];
      offB += strideB[d];
      if (++index[d] < shape[d])
        break;
      offA -= strideA[d] * shape[d];
      offB -= strideB[d] * shape[d];
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}

bool checkGemmSizes(dpcrt_context *ctx, int64_t m, int64_t n, int64_t k) {
  if (m >= 0 && n >= 0 && k >= 0 && m <= INT_MAX && n <= INT_MAX &&
      k <= INT_MAX)
    return true;
  recordError(ctx, "batched_gemm: sizes m=" + std::to_string(m) +
                       " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                       " are out of BLAS's int range");
  return false;
}

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

bool checkLabel(dpcrt_context *ctx, const char *kernel, int64_t label,
                int64_t sample, int64_t c) {
  if (label >= 0 && label < c)
    return true;
  recordError(ctx, std::string(kernel) + ": label " + std::to_string(label) +
                       " of sample " + std::to_string(sample) +
                       " is out of range [0, " + std::to_string(c) + ")");
  return false;
}

} // namespace

namespace dpc::cpu {

void batched_gemm_f32(dpcrt_context *ctx, float *c, const float *a,
                      const float *b, int32_t batchRank, const int64_t *dims,
                      int64_t m, int64_t n, int64_t k, int32_t transA,
                      int32_t transB) {
  if (batchRank < 0) {
    recordError(ctx, "batched_gemm: negative batch rank");
    return;
  }
  if (!checkGemmSizes(ctx, m, n, k) || m == 0 || n == 0)
    return;
  int lda = static_cast<int>(std::max<int64_t>(1, transA ? m : k));
  int ldb = static_cast<int>(std::max<int64_t>(1, transB ? k : n));
  int64_t sizeA = m * k, sizeB = k * n, sizeC = m * n;
  float *out = c;
  auto gemm = [&](int64_t offA, int64_t offB) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), 1.0f,
                a + offA * sizeA, lda, b + offB * sizeB, ldb, 0.0f, out,
                static_cast<int>(n));
    out += sizeC;
  };
  if (batchRank == 0) {
    gemm(0, 0);
    return;
  }
  forEachIndex(batchRank, dims, dims + batchRank, dims + 2 * batchRank, gemm);
}

void strided_copy(dpcrt_context *ctx, void *out, const void *in,
                  int64_t elemBytes, int32_t rank, const int64_t *dims) {
  if (rank < 0 || elemBytes <= 0) {
    recordError(ctx, "strided_copy: invalid rank or element size");
    return;
  }
  char *o = static_cast<char *>(out);
  const char *i = static_cast<const char *>(in);
  size_t bytes = static_cast<size_t>(elemBytes);
  if (rank == 0) {
    std::memcpy(o, i, bytes);
    return;
  }
  const int64_t *shape = dims, *outStride = dims + rank,
                *inStride = dims + 2 * rank;
  // Innermost dimension in a tight loop (a memcpy when both sides are
  // dense along it).
  int64_t inner = shape[rank - 1];
  int64_t innerOut = outStride[rank - 1], innerIn = inStride[rank - 1];
  auto row = [&](int64_t offOut, int64_t offIn) {
    char *dst = o + offOut * elemBytes;
    const char *src = i + offIn * elemBytes;
    if (innerOut == 1 && innerIn == 1) {
      std::memcpy(dst, src, bytes * static_cast<size_t>(inner));
      return;
    }
    for (int64_t j = 0; j < inner; ++j)
      std::memcpy(dst + j * innerOut * elemBytes, src + j * innerIn * elemBytes,
                  bytes);
  };
  if (inner <= 0)
    return;
  if (rank == 1) {
    row(0, 0);
    return;
  }
  forEachIndex(rank - 1, shape, outStride, inStride, row);
}

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

void gelu_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
              int64_t n) {
  if (kind != DPCRT_GELU_ERF && kind != DPCRT_GELU_TANH) {
    recordError(ctx, "gelu: unknown kind " + std::to_string(kind));
    return;
  }
  // oneDNN's eltwise_gelu_erf / eltwise_gelu_tanh: torch's formulas with
  // vectorized erf and tanh (see dnnl_eltwise.cpp).
  dpc::dnnlGelu(ctx, "gelu", kind == DPCRT_GELU_TANH, /*backward=*/false, out,
                in, nullptr, n);
}

void gelu_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx, const float *dy,
                   const float *x, int64_t n) {
  if (kind != DPCRT_GELU_ERF && kind != DPCRT_GELU_TANH) {
    recordError(ctx, "gelu_grad: unknown kind " + std::to_string(kind));
    return;
  }
  dpc::dnnlGelu(ctx, "gelu_grad", kind == DPCRT_GELU_TANH, /*backward=*/true,
                dx, x, dy, n);
}

void softmax_f32(dpcrt_context *ctx, float *out, const float *in, int64_t outer,
                 int64_t size, int64_t inner, int32_t log) {
  if (size <= 0)
    return;
  if (!log) {
    // oneDNN's softmax_v2 (accurate): x - max, vectorized exp, a float sum
    // (max error 2e-7 against double, the loop below 5e-8). A masked score
    // (-inf) gives 0 and a row of all -inf gives NaN, as before; a NaN or
    // +inf score gives NaN at its position and 0 elsewhere instead of a
    // row of NaN.
    dpc::dnnlSoftmax(ctx, "softmax", /*log=*/false, /*backward=*/false, out, in,
                     nullptr, outer, size, inner);
    return;
  }
  // Log-softmax stays scalar: oneDNN's softmax_log takes the log of the sum
  // with an approximation that is off by 3.5e-6 (the tests allow 1e-6).
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < inner; ++r) {
      const float *x = in + o * size * inner + r;
      float *y = out + o * size * inner + r;
      float max = x[0];
      for (int64_t j = 1; j < size; ++j)
        if (std::isnan(x[j * inner]) || x[j * inner] > max)
          max = x[j * inner];
      double sum = 0.0;
      for (int64_t j = 0; j < size; ++j)
        sum += std::exp(x[j * inner] - max);
      // _vec_log_softmax: x - max - log(sum).
      float logSum = std::log(static_cast<float>(sum));
      for (int64_t j = 0; j < size; ++j)
        y[j * inner] = x[j * inner] - max - logSum;
    }
}

void softmax_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                      const float *y, int64_t outer, int64_t size,
                      int64_t inner, int32_t log) {
  if (!log) {
    // (dy - sum(dy * y)) * y on oneDNN, vectorized.
    dpc::dnnlSoftmax(ctx, "softmax_grad", /*log=*/false, /*backward=*/true, dx,
                     dy, y, outer, size, inner);
    return;
  }
  // dy - exp(y) * sum(dy) stays scalar, so that a row of all -inf (y NaN)
  // keeps giving NaN (oneDNN's softmax_log backward gives -inf).
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < inner; ++r) {
      int64_t base = o * size * inner + r;
      const float *g = dy + base, *out = y + base;
      float *d = dx + base;
      double sum = 0.0;
      for (int64_t j = 0; j < size; ++j)
        sum += g[j * inner];
      float s = static_cast<float>(sum);
      for (int64_t j = 0; j < size; ++j)
        d[j * inner] = g[j * inner] - std::exp(out[j * inner]) * s;
    }
}

void compare_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                 const float *b, int32_t rank, const int64_t *dims) {
  if (rank < 0 || kind < DPCRT_COMPARE_EQ || kind > DPCRT_COMPARE_GE) {
    recordError(ctx, "compare: invalid rank or kind " + std::to_string(kind));
    return;
  }
  auto compare = [kind](float x, float y) { return applyCompare(kind, x, y); };
  if (rank == 0) {
    out[0] = compare(a[0], b[0]) ? 1.0f : 0.0f;
    return;
  }
  // The innermost dimension in a tight loop, the outer ones by an odometer.
  int64_t inner = dims[rank - 1];
  int64_t innerA = dims[2 * rank - 1], innerB = dims[3 * rank - 1];
  float *o = out;
  forEachIndex(rank - 1, dims, dims + rank, dims + 2 * rank,
               [&](int64_t offA, int64_t offB) {
                 for (int64_t j = 0; j < inner; ++j)
                   o[j] = compare(a[offA + j * innerA], b[offB + j * innerB])
                              ? 1.0f
                              : 0.0f;
                 o += inner;
               });
}

void masked_fill_f32(dpcrt_context *ctx, float *out, const float *in,
                     const float *mask, int32_t rank, const int64_t *dims,
                     float value) {
  if (rank < 0) {
    recordError(ctx, "masked_fill: negative rank");
    return;
  }
  if (rank == 0) {
    out[0] = mask[0] != 0.0f ? value : in[0];
    return;
  }
  std::vector<int64_t> dense(static_cast<size_t>(rank));
  int64_t stride = 1;
  for (int32_t d = rank; d-- > 0;) {
    dense[d] = stride;
    stride *= dims[d];
  }
  int64_t inner = dims[rank - 1], innerMask = dims[2 * rank - 1];
  forEachIndex(rank - 1, dims, dense.data(), dims + rank,
               [&](int64_t off, int64_t offMask) {
                 const float *x = in + off, *m = mask + offMask;
                 float *y = out + off;
                 // x[j] loaded unconditionally: the select vectorizes.
                 for (int64_t j = 0; j < inner; ++j) {
                   float v = x[j];
                   y[j] = m[j * innerMask] != 0.0f ? value : v;
                 }
               });
}

void div_scalar_f32(dpcrt_context *, float *out, const float *in, int64_t n,
                    float divisor) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = in[i] / divisor;
}

void nll_loss_f32(dpcrt_context *ctx, float *loss, const float *input,
                  const int64_t *labels, int64_t n, int64_t c) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "nll_loss", labels[i], i, c)) {
      loss[0] = NAN;
      return;
    }
    total -= input[i * c + labels[i]];
  }
  loss[0] = static_cast<float>(total / static_cast<double>(n));
}

void nll_loss_grad_f32(dpcrt_context *ctx, float *dinput, const float *dloss,
                       const int64_t *labels, int64_t n, int64_t c) {
  std::fill(dinput, dinput + n * c, 0.0f);
  float g = -(dloss[0] / static_cast<float>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (!checkLabel(ctx, "nll_loss_grad", labels[i], i, c)) {
      std::fill(dinput, dinput + n * c, NAN);
      return;
    }
    dinput[i * c + labels[i]] = g;
  }
}

} // namespace dpc::cpu
