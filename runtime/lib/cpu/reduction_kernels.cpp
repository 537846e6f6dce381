//===- reduction_kernels.cpp - CPU kernels of the reductions --------------===//
//
// The broadcast-undoing sum (sum, sum_to, mean), the max / min reduction
// (amax, amin), max along a dim with its index (max.dim, argmax), the
// Euclidean norm, logsumexp, cumsum and softmax / log-softmax
// with their gradients. Sums accumulate in double where torch uses a
// vectorized float sum, so results agree with torch to a few float32 ulps
// and do not depend on the vector width. Softmax (not log-softmax) runs on
// oneDNN (dnnl_eltwise.cpp). The float64 sum, softmax and their gradients
// compute in double (the sums of reduce_sum_f64 in long double).
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/dnnl_eltwise.h"
#include "cpu/strided_loops.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using dpc::recordError;

namespace dpc::cpu {

namespace {

/// The sums of reduce_sum_f32 (Square: of the squares) in Acc: double for
/// float inputs, long double for reduce_sum_f64's double inputs (so that a
/// long reduction stays within an ulp or two of the exact sum, as torch's
/// float64 cascade sum does).
template <bool Square, typename T, typename Acc>
bool reduceSumInto(dpcrt_context *ctx, const char *kernel,
                   std::vector<Acc> &acc, const T *in, int32_t rank,
                   const int64_t *dims, int64_t outN) {
  if (rank < 0 || outN < 0) {
    recordError(ctx, std::string(kernel) + ": negative rank or output size");
    return false;
  }
  acc.assign(static_cast<size_t>(outN), Acc(0));
  if (rank == 0) {
    acc[0] = Square ? Acc(in[0]) * in[0] : in[0];
    return true;
  }
  const int64_t *shape = dims;
  const int64_t *outStride = dims + rank;
  // The input in row-major order (a row of the innermost dimension at a
  // time), each element added to its output's accumulator. One strided
  // operand: forEachIndex's second offset is not used.
  int64_t inner = shape[rank - 1], innerStride = outStride[rank - 1];
  const T *row = in;
  if (inner > 0)
    forEachIndex(rank - 1, shape, outStride, outStride,
                 [&](int64_t outOff, int64_t) {
                   for (int64_t j = 0; j < inner; ++j) {
                     Acc v = row[j];
                     acc[outOff + j * innerStride] += Square ? v * v : v;
                   }
                   row += inner;
                 });
  return true;
}

/// reduce_sum_f32 and reduce_sum_f64: the sums in Acc (reduceSumInto),
/// rounded to T.
template <typename T, typename Acc>
void reduceSum(dpcrt_context *ctx, T *out, const T *in, int32_t rank,
               const int64_t *dims, int64_t outN) {
  std::vector<Acc> acc;
  if (!reduceSumInto<false>(ctx, "reduce_sum", acc, in, rank, dims, outN))
    return;
  for (int64_t i = 0; i < outN; ++i)
    out[i] = static_cast<T>(acc[i]);
}

/// The maximum of x[j * inner] for j in [0, size), NaN if one is NaN (the
/// running maximum of torch's softmax kernels).
template <typename T> T softmaxMax(const T *x, int64_t size, int64_t inner) {
  T max = x[0];
  for (int64_t j = 1; j < size; ++j)
    if (std::isnan(x[j * inner]) || x[j * inner] > max)
      max = x[j * inner];
  return max;
}

/// Log-softmax over the middle dimension of [outer, size, inner] (size > 0),
/// scalar, for T float (softmax_f32) or double (softmax_f64): the
/// exponentials in T summed in double, then _vec_log_softmax's
/// x - max - log(sum).
template <typename T>
void logSoftmax(T *out, const T *in, int64_t outer, int64_t size,
                int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < inner; ++r) {
      const T *x = in + o * size * inner + r;
      T *y = out + o * size * inner + r;
      T max = softmaxMax(x, size, inner);
      double sum = 0.0;
      for (int64_t j = 0; j < size; ++j)
        sum += std::exp(x[j * inner] - max);
      T logSum = std::log(static_cast<T>(sum));
      for (int64_t j = 0; j < size; ++j)
        y[j * inner] = x[j * inner] - max - logSum;
    }
}

/// Log-softmax's gradient dy - exp(y) * sum(dy), scalar, for T float
/// (softmax_grad_f32) or double (softmax_grad_f64); the sum in double,
/// rounded to T.
template <typename T>
void logSoftmaxGrad(T *dx, const T *dy, const T *y, int64_t outer, int64_t size,
                    int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < inner; ++r) {
      int64_t base = o * size * inner + r;
      const T *g = dy + base, *out = y + base;
      T *d = dx + base;
      double sum = 0.0;
      for (int64_t j = 0; j < size; ++j)
        sum += g[j * inner];
      T s = static_cast<T>(sum);
      for (int64_t j = 0; j < size; ++j)
        d[j * inner] = g[j * inner] - std::exp(out[j * inner]) * s;
    }
}

} // namespace

void reduce_sum_f32(dpcrt_context *ctx, float *out, const float *in,
                    int32_t rank, const int64_t *dims, int64_t outN) {
  reduceSum<float, double>(ctx, out, in, rank, dims, outN);
}

void reduce_sum_f64(dpcrt_context *ctx, double *out, const double *in,
                    int32_t rank, const int64_t *dims, int64_t outN) {
  reduceSum<double, long double>(ctx, out, in, rank, dims, outN);
}

void reduce_norm2_f32(dpcrt_context *ctx, float *out, const float *in,
                      int32_t rank, const int64_t *dims, int64_t outN) {
  std::vector<double> acc;
  if (!reduceSumInto<true>(ctx, "reduce_norm2", acc, in, rank, dims, outN))
    return;
  for (int64_t i = 0; i < outN; ++i)
    out[i] = static_cast<float>(std::sqrt(acc[i]));
}

void reduce_max_f32(dpcrt_context *ctx, float *out, const float *in,
                    int32_t rank, const int64_t *dims, int64_t outN,
                    int32_t min) {
  if (rank < 0 || outN < 0) {
    recordError(ctx, "reduce_max: negative rank or output size");
    return;
  }
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const int64_t *shape = dims;
  const int64_t *outStride = dims + rank;
  // Like reduce_sum: the input in row-major order, each element folded into
  // its output. `seen` marks outputs that hold a value already.
  std::vector<char> seen(static_cast<size_t>(outN), 0);
  int64_t inner = shape[rank - 1], innerStride = outStride[rank - 1];
  const float *row = in;
  auto fold = [min](float acc, float v) {
    if (std::isnan(acc) || std::isnan(v))
      return std::isnan(acc) ? acc : v;
    return min ? (v < acc ? v : acc) : (v > acc ? v : acc);
  };
  if (inner > 0)
    forEachIndex(rank - 1, shape, outStride, outStride,
                 [&](int64_t outOff, int64_t) {
                   if (innerStride == 0) {
                     // The innermost dimension is reduced: one output.
                     float acc = seen[outOff] ? out[outOff] : row[0];
                     for (int64_t j = 0; j < inner; ++j)
                       acc = fold(acc, row[j]);
                     out[outOff] = acc;
                     seen[outOff] = 1;
                   } else {
                     for (int64_t j = 0; j < inner; ++j) {
                       int64_t o = outOff + j * innerStride;
                       out[o] = seen[o] ? fold(out[o], row[j]) : row[j];
                       seen[o] = 1;
                     }
                   }
                   row += inner;
                 });
}

void reduce_logsumexp_f32(dpcrt_context *ctx, float *out, const float *in,
                          int32_t rank, const int64_t *dims, int64_t outN) {
  reduce_max_f32(ctx, out, in, rank, dims, outN, /*min=*/0);
  if (rank <= 0 || outN < 0)
    return;
  // torch masks infinite maxima to 0 (so a row of -inf gives -inf, one
  // with +inf gives +inf or NaN, not NaN from inf - inf).
  for (int64_t i = 0; i < outN; ++i)
    if (std::isinf(out[i]))
      out[i] = 0.0f;
  const int64_t *shape = dims;
  const int64_t *outStride = dims + rank;
  std::vector<double> acc(static_cast<size_t>(outN), 0.0);
  int64_t inner = shape[rank - 1], innerStride = outStride[rank - 1];
  const float *row = in;
  if (inner > 0)
    forEachIndex(rank - 1, shape, outStride, outStride,
                 [&](int64_t outOff, int64_t) {
                   for (int64_t j = 0; j < inner; ++j) {
                     int64_t o = outOff + j * innerStride;
                     acc[o] += std::exp(row[j] - out[o]);
                   }
                   row += inner;
                 });
  for (int64_t i = 0; i < outN; ++i)
    out[i] = std::log(static_cast<float>(acc[i])) + out[i];
}

void max_dim_f32(dpcrt_context *ctx, float *values, int64_t *indices,
                 const float *in, int64_t outer, int64_t size, int64_t inner,
                 int32_t min) {
  if (outer < 0 || inner < 0 || size < 1) {
    recordError(ctx, "max_dim: empty or negative extent");
    return;
  }
  // A running best per position of the inner dimension; a later element
  // replaces it only if strictly better (or the first NaN), so the first
  // occurrence wins.
  for (int64_t o = 0; o < outer; ++o) {
    const float *x = in + o * size * inner;
    float *best = values + o * inner;
    int64_t *at = indices + o * inner;
    for (int64_t r = 0; r < inner; ++r) {
      best[r] = x[r];
      at[r] = 0;
    }
    for (int64_t j = 1; j < size; ++j)
      for (int64_t r = 0; r < inner; ++r) {
        float v = x[j * inner + r];
        bool better = min ? v < best[r] : v > best[r];
        if (!std::isnan(best[r]) && (better || std::isnan(v))) {
          best[r] = v;
          at[r] = j;
        }
      }
  }
}

void max_dim_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                      const int64_t *indices, int64_t outer, int64_t size,
                      int64_t inner) {
  if (outer < 0 || inner < 0 || size < 0) {
    recordError(ctx, "max_dim_grad: negative extent");
    return;
  }
  std::fill(dx, dx + outer * size * inner, 0.0f);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < inner; ++r) {
      int64_t j = indices[o * inner + r];
      if (j < 0 || j >= size) {
        recordError(ctx, "max_dim_grad: index " + std::to_string(j) +
                             " out of range [0, " + std::to_string(size) + ")");
        return;
      }
      dx[(o * size + j) * inner + r] = dy[o * inner + r];
    }
}

void cumsum_f32(dpcrt_context *, float *out, const float *in, int64_t outer,
                int64_t size, int64_t inner, int32_t reverse) {
  if (outer <= 0 || size <= 0 || inner <= 0)
    return;
  // A running double sum per position of the inner dimension, so that the
  // inner loop runs over contiguous elements.
  std::vector<double> acc(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t step = 0; step < size; ++step) {
      int64_t j = reverse ? size - 1 - step : step;
      const float *x = in + (o * size + j) * inner;
      float *y = out + (o * size + j) * inner;
      for (int64_t r = 0; r < inner; ++r) {
        acc[r] += x[r];
        y[r] = static_cast<float>(acc[r]);
      }
    }
  }
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
  logSoftmax(out, in, outer, size, inner);
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
  logSoftmaxGrad(dx, dy, y, outer, size, inner);
}

// float64 softmax and log-softmax: PyTorch's float64 CPU kernels' formulas
// in double (oneDNN's softmax is float32 only), scalar.
void softmax_f64(dpcrt_context *, double *out, const double *in, int64_t outer,
                 int64_t size, int64_t inner, int32_t log) {
  if (size <= 0)
    return;
  if (log)
    return logSoftmax(out, in, outer, size, inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < inner; ++r) {
      const double *x = in + o * size * inner + r;
      double *y = out + o * size * inner + r;
      double max = softmaxMax(x, size, inner);
      double sum = 0.0;
      for (int64_t j = 0; j < size; ++j) {
        y[j * inner] = std::exp(x[j * inner] - max);
        sum += y[j * inner];
      }
      // torch multiplies by the reciprocal of the sum along a last dimension
      // (_vec_softmax_lastdim) and divides otherwise.
      double reciprocal = 1.0 / sum;
      for (int64_t j = 0; j < size; ++j)
        y[j * inner] = inner == 1 ? y[j] * reciprocal : y[j * inner] / sum;
    }
}

void softmax_grad_f64(dpcrt_context *, double *dx, const double *dy,
                      const double *y, int64_t outer, int64_t size,
                      int64_t inner, int32_t log) {
  if (log)
    return logSoftmaxGrad(dx, dy, y, outer, size, inner);
  // (dy - sum(dy * y)) * y.
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < inner; ++r) {
      int64_t base = o * size * inner + r;
      const double *g = dy + base, *out = y + base;
      double *d = dx + base;
      double sum = 0.0;
      for (int64_t j = 0; j < size; ++j)
        sum += g[j * inner] * out[j * inner];
      for (int64_t j = 0; j < size; ++j)
        d[j * inner] = (g[j * inner] - sum) * out[j * inner];
    }
}

} // namespace dpc::cpu
