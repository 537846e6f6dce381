//===- reduction_kernels_test.cpp - max / min reduction vs a reference ----===//
//
// dpcrt_reduce_max_f32 (amax, amin) against a straightforward reference
// over every subset of the dims of a 3-d tensor, and its NaN propagation
// (the max and min of floats are exact, so results must agree bitwise);
// dpcrt_max_dim_f32 / dpcrt_max_dim_grad_f32 (first occurrence of ties and
// of NaN, bitwise); dpcrt_reduce_logsumexp_f32 and dpcrt_cumsum_f32 against
// double references, errors relative to max(1, |reference|).
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace {

using dpc::test::randomVector;

/// dpcrt_reduce_max_f32 of `x` [2, 3, 4] over the dims in `mask` (bit d).
std::vector<float> reduceMax(dpcrt_context &ctx, const std::vector<float> &x,
                             unsigned mask, bool min) {
  const int64_t shape[3] = {2, 3, 4};
  int64_t kept[3], stride[3], n = 1;
  for (int d = 2; d >= 0; --d) {
    kept[d] = (mask >> d) & 1 ? 1 : shape[d];
    stride[d] = (mask >> d) & 1 ? 0 : n;
    n *= kept[d];
  }
  const int64_t dims[6] = {shape[0],  shape[1],  shape[2],
                           stride[0], stride[1], stride[2]};
  std::vector<float> out(n, NAN);
  dpcrt_reduce_max_f32(&ctx, out.data(), x.data(), 3, dims, n, min);
  return out;
}

TEST(ReduceMaxKernel, EverySubsetOfDims) {
  dpcrt_context ctx;
  std::vector<float> x = randomVector(24, 53, -4.0f, 4.0f);
  for (unsigned mask = 0; mask < 8; ++mask)
    for (bool min : {false, true}) {
      SCOPED_TRACE("dims mask " + std::to_string(mask) +
                   (min ? " min" : " max"));
      std::vector<float> got = reduceMax(ctx, x, mask, min);
      // The reference: every input element compared into its output.
      const int64_t shape[3] = {2, 3, 4};
      int64_t kept[3];
      for (int d = 0; d < 3; ++d)
        kept[d] = (mask >> d) & 1 ? 1 : shape[d];
      std::vector<float> want(got.size(),
                              min ? std::numeric_limits<float>::infinity()
                                  : -std::numeric_limits<float>::infinity());
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 3; ++j)
          for (int64_t k = 0; k < 4; ++k) {
            int64_t o =
                ((kept[0] == 1 ? 0 : i) * kept[1] + (kept[1] == 1 ? 0 : j)) *
                    kept[2] +
                (kept[2] == 1 ? 0 : k);
            float v = x[(i * 3 + j) * 4 + k];
            want[o] = min ? std::min(want[o], v) : std::max(want[o], v);
          }
      EXPECT_EQ(got, want);
    }
  EXPECT_EQ(ctx.error, "");
}

TEST(ReduceMaxKernel, NanPropagates) {
  dpcrt_context ctx;
  std::vector<float> x = randomVector(24, 59);
  x[5] = NAN; // row (0, 1) of the last dim
  std::vector<float> rows = reduceMax(ctx, x, /*dims=*/4, /*min=*/false);
  for (size_t r = 0; r < rows.size(); ++r)
    EXPECT_EQ(std::isnan(rows[r]), r == 1) << "row " << r;
  std::vector<float> all = reduceMax(ctx, x, 7, /*min=*/true);
  EXPECT_TRUE(std::isnan(all[0]));
}

TEST(MaxDimKernel, FirstOccurrenceAndGradient) {
  dpcrt_context ctx;
  // [2, 5, 3] along dim 1, with ties and a NaN.
  const int64_t outer = 2, size = 5, inner = 3;
  std::vector<float> x = randomVector(outer * size * inner, 71);
  auto at = [&](int64_t o, int64_t j, int64_t r) -> float & {
    return x[(o * size + j) * inner + r];
  };
  at(0, 1, 0) = at(0, 3, 0) = 5.0f;  // tie for the max: index 1
  at(0, 2, 1) = at(0, 4, 1) = -5.0f; // tie for the min: index 2
  at(1, 3, 2) = NAN;                 // NaN wins either way
  for (int min = 0; min < 2; ++min) {
    std::vector<float> values(outer * inner, NAN);
    std::vector<int64_t> indices(outer * inner, -1);
    dpcrt_max_dim_f32(&ctx, values.data(), indices.data(), x.data(), outer,
                      size, inner, min);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t r = 0; r < inner; ++r) {
        int64_t best = 0;
        for (int64_t j = 1; j < size; ++j) {
          float v = at(o, j, r), b = at(o, best, r);
          if (!std::isnan(b) && (std::isnan(v) || (min ? v < b : v > b)))
            best = j;
        }
        EXPECT_EQ(indices[o * inner + r], best) << o << "," << r;
        float want = at(o, best, r);
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(values[o * inner + r]));
        else
          EXPECT_EQ(values[o * inner + r], want);
      }
    if (!min) {
      EXPECT_EQ(indices[0], 1);
      EXPECT_EQ(indices[1 * inner + 2], 3);
    } else {
      EXPECT_EQ(indices[1], 2);
    }
    // The gradient lands at the index, zeros elsewhere.
    std::vector<float> dy = randomVector(outer * inner, 73);
    std::vector<float> dx(x.size(), NAN);
    dpcrt_max_dim_grad_f32(&ctx, dx.data(), dy.data(), indices.data(), outer,
                           size, inner);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < size; ++j)
        for (int64_t r = 0; r < inner; ++r)
          EXPECT_EQ(dx[(o * size + j) * inner + r],
                    j == indices[o * inner + r] ? dy[o * inner + r] : 0.0f);
  }
  EXPECT_EQ(ctx.error, "");
}

TEST(ReduceNorm2Kernel, AgainstDouble) {
  dpcrt_context ctx;
  // [6, 40] over dim 1 and over both dims.
  const int64_t rows = 6, cols = 40;
  std::vector<float> x = randomVector(rows * cols, 79, -3.0f, 3.0f);
  const int64_t byRow[4] = {rows, cols, 1, 0};
  const int64_t all[4] = {rows, cols, 0, 0};
  std::vector<float> rowNorms(rows, NAN), total(1, NAN);
  dpcrt_reduce_norm2_f32(&ctx, rowNorms.data(), x.data(), 2, byRow, rows);
  dpcrt_reduce_norm2_f32(&ctx, total.data(), x.data(), 2, all, 1);
  EXPECT_EQ(ctx.error, "");
  double worst = 0.0, sumAll = 0.0;
  for (int64_t i = 0; i < rows; ++i) {
    double sum = 0.0;
    for (int64_t j = 0; j < cols; ++j)
      sum += double(x[i * cols + j]) * x[i * cols + j];
    sumAll += sum;
    worst = std::max(worst,
                     std::fabs(rowNorms[i] - std::sqrt(sum)) / std::sqrt(sum));
  }
  worst = std::max(worst,
                   std::fabs(total[0] - std::sqrt(sumAll)) / std::sqrt(sumAll));
  std::printf("norm2: max relative error %.2e\n", worst);
  EXPECT_LT(worst, 1e-7);
}

TEST(ReduceLogSumExpKernel, AgainstDouble) {
  dpcrt_context ctx;
  // [3, 50, 4] reduced over dim 1, values up to 30 (exp would overflow a
  // float sum without the max shift) and a row of -inf (result -inf).
  const int64_t a = 3, b = 50, c = 4;
  std::vector<float> x = randomVector(a * b * c, 61, -30.0f, 30.0f);
  for (int64_t j = 0; j < b; ++j)
    x[(2 * b + j) * c + 3] = -INFINITY;
  const int64_t dims[6] = {a, b, c, c, 0, 1};
  std::vector<float> out(a * c, NAN);
  dpcrt_reduce_logsumexp_f32(&ctx, out.data(), x.data(), 3, dims, a * c);
  EXPECT_EQ(ctx.error, "");
  double worst = 0.0;
  for (int64_t i = 0; i < a; ++i)
    for (int64_t k = 0; k < c; ++k) {
      if (i == 2 && k == 3) {
        EXPECT_EQ(out[i * c + k], -INFINITY);
        continue;
      }
      double m = -INFINITY;
      for (int64_t j = 0; j < b; ++j)
        m = std::max(m, double(x[(i * b + j) * c + k]));
      double sum = 0.0;
      for (int64_t j = 0; j < b; ++j)
        sum += std::exp(double(x[(i * b + j) * c + k]) - m);
      double want = std::log(sum) + m;
      worst = std::max(worst, std::fabs(out[i * c + k] - want) /
                                  std::max(1.0, std::fabs(want)));
    }
  std::printf("logsumexp: max error %.2e\n", worst);
  EXPECT_LT(worst, 1e-6);
}

TEST(CumSumKernel, ForwardAndReverseAgainstDouble) {
  dpcrt_context ctx;
  const int64_t outer = 3, size = 200, inner = 5;
  std::vector<float> x = randomVector(outer * size * inner, 67, -2.0f, 2.0f);
  for (int reverse = 0; reverse < 2; ++reverse) {
    std::vector<float> out(x.size(), NAN);
    dpcrt_cumsum_f32(&ctx, out.data(), x.data(), outer, size, inner, reverse);
    double worst = 0.0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t r = 0; r < inner; ++r) {
        double acc = 0.0;
        for (int64_t step = 0; step < size; ++step) {
          int64_t j = reverse ? size - 1 - step : step;
          int64_t at = (o * size + j) * inner + r;
          acc += x[at];
          worst = std::max(worst, std::fabs(out[at] - acc) /
                                      std::max(1.0, std::fabs(acc)));
        }
      }
    std::printf("cumsum%s: max error %.2e\n", reverse ? " (reverse)" : "",
                worst);
    EXPECT_LT(worst, 1e-7);
  }
  EXPECT_EQ(ctx.error, "");
}

} // namespace
