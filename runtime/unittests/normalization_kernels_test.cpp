//===- normalization_kernels_test.cpp - group norm vs a double reference --===//
//
// dpcrt_group_norm_f32 and its gradient against a straightforward
// double-precision reference of the textbook formulas (not of the kernel's
// operation order), for several group counts, spatial sizes and
// InstanceNorm's one group per channel. Errors are relative to
// max(1, |reference|).
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace {

using dpc::test::randomVector;

/// The largest error of `got` against `want`, relative to max(1, |want|).
double maxError(const std::vector<float> &got,
                const std::vector<double> &want) {
  EXPECT_EQ(got.size(), want.size());
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::fabs(got[i] - want[i]) /
                                std::max(1.0, std::fabs(want[i])));
  return worst;
}

struct GroupNormCase {
  int64_t n, c, inner, groups;
};

class GroupNormKernelTest : public ::testing::TestWithParam<GroupNormCase> {
protected:
  dpcrt_context ctx;
};

TEST_P(GroupNormKernelTest, ForwardAndGradientAgainstDouble) {
  auto [n, c, inner, groups] = GetParam();
  const float eps = 1e-5f;
  const int64_t perGroup = c / groups, groupSize = perGroup * inner;
  const int64_t total = n * c * inner;
  std::vector<float> x = randomVector(total, 31, -3.0f, 2.0f);
  std::vector<float> w = randomVector(c, 37, 0.5f, 1.5f);
  std::vector<float> b = randomVector(c, 41);
  std::vector<float> dy = randomVector(total, 43);

  // y = xhat * w + b; with g = dy * w, per (sample, group):
  // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
  // dw = sum over samples and space of dy * xhat, db = sum of dy.
  std::vector<double> wantY(total), wantDx(total), wantDw(c, 0.0),
      wantDb(c, 0.0);
  for (int64_t row = 0; row < n * groups; ++row) {
    const float *xr = x.data() + row * groupSize;
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < groupSize; ++i)
      mean += xr[i];
    mean /= groupSize;
    for (int64_t i = 0; i < groupSize; ++i)
      var += (xr[i] - mean) * (xr[i] - mean);
    var /= groupSize;
    double rstd = 1.0 / std::sqrt(var + eps);
    double meanG = 0.0, meanGX = 0.0;
    for (int64_t i = 0; i < groupSize; ++i) {
      int64_t ch = (row % groups) * perGroup + i / inner;
      double xhat = (xr[i] - mean) * rstd;
      double g = double(dy[row * groupSize + i]) * w[ch];
      wantY[row * groupSize + i] = xhat * w[ch] + b[ch];
      meanG += g / groupSize;
      meanGX += g * xhat / groupSize;
      wantDw[ch] += dy[row * groupSize + i] * xhat;
      wantDb[ch] += dy[row * groupSize + i];
    }
    for (int64_t i = 0; i < groupSize; ++i) {
      int64_t ch = (row % groups) * perGroup + i / inner;
      double xhat = (xr[i] - mean) * rstd;
      double g = double(dy[row * groupSize + i]) * w[ch];
      wantDx[row * groupSize + i] = rstd * (g - meanG - xhat * meanGX);
    }
  }

  std::vector<float> y(total, NAN), dx(total, NAN), dw(c, NAN), db(c, NAN);
  dpcrt_group_norm_f32(&ctx, y.data(), x.data(), w.data(), b.data(), n, c,
                       inner, groups, eps);
  dpcrt_group_norm_grad_f32(&ctx, dx.data(), dw.data(), db.data(), dy.data(),
                            x.data(), w.data(), n, c, inner, groups, eps);
  EXPECT_EQ(ctx.error, "");
  double errY = maxError(y, wantY), errDx = maxError(dx, wantDx),
         errDw = maxError(dw, wantDw), errDb = maxError(db, wantDb);
  std::printf("group_norm [%lld, %lld, %lld] / %lld groups: max error y %.2e "
              "dx %.2e dw %.2e db %.2e\n",
              static_cast<long long>(n), static_cast<long long>(c),
              static_cast<long long>(inner), static_cast<long long>(groups),
              errY, errDx, errDw, errDb);
  EXPECT_LT(errY, 2e-6);
  EXPECT_LT(errDx, 2e-5);
  EXPECT_LT(errDw, 1e-5);
  EXPECT_LT(errDb, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GroupNormKernelTest,
    ::testing::Values(GroupNormCase{2, 8, 9, 4},    // GroupNorm
                      GroupNormCase{3, 6, 25, 6},   // InstanceNorm
                      GroupNormCase{2, 16, 64, 1},  // one group: LayerNorm-like
                      GroupNormCase{4, 12, 1, 3})); // [N, C] input

TEST(GroupNormKernelErrors, IndivisibleChannelsAreRecorded) {
  dpcrt_context ctx;
  std::vector<float> x(2 * 6 * 4), w(6), b(6), y(x.size());
  dpcrt_group_norm_f32(&ctx, y.data(), x.data(), w.data(), b.data(), 2, 6, 4, 4,
                       1e-5f);
  EXPECT_EQ(ctx.error, "group_norm: invalid shape [2, 6, 4] for 4 groups");
}

} // namespace
