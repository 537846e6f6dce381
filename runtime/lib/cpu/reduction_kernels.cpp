//===- reduction_kernels.cpp - CPU kernels of the reductions --------------===//
//
// The broadcast-undoing sum (sum, sum_to, mean) and softmax / log-softmax
// with their gradients. Sums accumulate in double where torch uses a
// vectorized float sum, so results agree with torch to a few float32 ulps
// and do not depend on the vector width. Softmax (not log-softmax) runs on
// oneDNN (dnnl_eltwise.cpp).
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/dnnl_eltwise.h"
#include "cpu/strided_loops.h"

#include <cmath>
#include <string>
#include <vector>

using dpc::recordError;

namespace dpc::cpu {

void reduce_sum_f32(dpcrt_context *ctx, float *out, const float *in,
                    int32_t rank, const int64_t *dims, int64_t outN) {
  if (rank < 0 || outN < 0) {
    recordError(ctx, "reduce_sum: negative rank or output size");
    return;
  }
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const int64_t *shape = dims;
  const int64_t *outStride = dims + rank;
  std::vector<double> acc(static_cast<size_t>(outN), 0.0);
  // The input in row-major order (a row of the innermost dimension at a
  // time), each element added to its output's accumulator. One strided
  // operand: forEachIndex's second offset is not used.
  int64_t inner = shape[rank - 1], innerStride = outStride[rank - 1];
  const float *row = in;
  if (inner > 0)
    forEachIndex(rank - 1, shape, outStride, outStride,
                 [&](int64_t outOff, int64_t) {
                   for (int64_t j = 0; j < inner; ++j)
                     acc[outOff + j * innerStride] += row[j];
                   row += inner;
                 });
  for (int64_t i = 0; i < outN; ++i)
    out[i] = static_cast<float>(acc[i]);
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

} // namespace dpc::cpu
