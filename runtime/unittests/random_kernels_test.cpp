//===- random_kernels_test.cpp - Philox, the dropout and bernoulli kernels ===//
//
// philox4x32_10 against Random123's published known-answer vectors; the
// dropout kernel's rate (a binomial count within 6 standard deviations:
// the draws are deterministic for a given seed, so this never flakes, but
// a wrong keep rule such as keeping with probability p fails it by
// hundreds), its scale (exactly 0 or torch's 1.0f / float(1 - p)), NaN
// handling, p = 0 and 1, that every coordinate of the counter gives an
// independent mask (agreement of two p = 0.5 masks near one half), that
// the backward (the same call on the gradient) redraws the same mask, and
// that a tensor's mask does not depend on its length past the element.
// The bernoulli kernel likewise: its rate for several p (within 6 standard
// deviations), values exactly 0 or 1, p = 0 and 1, independence across the
// counter's coordinates, and that its draw of 1 - p is dropout's keep mask
// at p (the one generator rule both share).
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "philox.h"
#include "test_util.h"

#include <cmath>
#include <limits>
#include <vector>

namespace {

TEST(Philox, Random123KnownAnswers) {
  struct Case {
    uint32_t counter[4], key[2], expected[4];
  };
  const Case cases[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Case &c : cases) {
    dpc::PhiloxBlock got =
        dpc::philox4x32_10(c.counter[0], c.counter[1], c.counter[2],
                           c.counter[3], c.key[0], c.key[1]);
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(got.word[i], c.expected[i]) << "word " << i;
  }
}

struct Coordinates {
  uint64_t seed = 0;
  int64_t step = 0;
  int rank = 0;
  int32_t site = 0, microBatch = 0, replica = 0;
};

std::vector<float> dropout(const std::vector<float> &in, double p,
                           const Coordinates &at = {}) {
  dpcrt_context ctx;
  ctx.seed = at.seed;
  ctx.step = at.step;
  ctx.rank = at.rank;
  std::vector<float> out(in.size(), -1.0f);
  dpcrt_dropout_f32(&ctx, out.data(), in.data(),
                    static_cast<int64_t>(in.size()), p, at.site, at.microBatch,
                    at.replica);
  EXPECT_EQ(ctx.error, "");
  return out;
}

TEST(DropoutKernel, RateAndScale) {
  const int64_t n = 1 << 20;
  std::vector<float> ones(n, 1.0f);
  for (double p : {0.1, 0.5, 0.9}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    const float scale = 1.0f / static_cast<float>(1.0 - p);
    std::vector<float> y = dropout(ones, p, {/*seed=*/1234});
    int64_t kept = 0;
    for (float v : y) {
      ASSERT_TRUE(v == 0.0f || v == scale) << v;
      kept += v != 0.0f;
    }
    double expected = n * (1.0 - p), sd = std::sqrt(n * p * (1.0 - p));
    EXPECT_LT(std::abs(kept - expected), 6 * sd)
        << kept << " kept, expected " << expected;
  }
}

TEST(DropoutKernel, ZeroAndOneAndNaN) {
  std::vector<float> x = dpc::test::randomVector(1001, 7, -3.0f, 3.0f);
  EXPECT_EQ(dropout(x, 0.0), x);
  for (float v : dropout(x, 1.0))
    EXPECT_EQ(v, 0.0f);
  // A product, as torch's input * noise: a dropped NaN stays NaN.
  std::vector<float> nans(64, std::numeric_limits<float>::quiet_NaN());
  for (float v : dropout(nans, 0.5))
    EXPECT_TRUE(std::isnan(v));
}

/// The fraction of elements on which two p = 0.5 masks agree.
double agreement(const std::vector<float> &a, const std::vector<float> &b) {
  int64_t same = 0;
  for (size_t i = 0; i < a.size(); ++i)
    same += (a[i] != 0.0f) == (b[i] != 0.0f);
  return static_cast<double>(same) / a.size();
}

TEST(DropoutKernel, EveryCoordinateDrawsItsOwnMask) {
  const int64_t n = 1 << 16;
  std::vector<float> ones(n, 1.0f);
  Coordinates base{/*seed=*/5,       /*step=*/3,
                   /*rank=*/1,       /*site=*/2,
                   /*microBatch=*/1, /*replica=*/0};
  std::vector<float> reference = dropout(ones, 0.5, base);
  EXPECT_EQ(dropout(ones, 0.5, base), reference); // deterministic
  const double tolerance = 6 * 0.5 / std::sqrt(static_cast<double>(n));
  auto expectIndependent = [&](Coordinates at, const char *what) {
    EXPECT_NEAR(agreement(dropout(ones, 0.5, at), reference), 0.5, tolerance)
        << what;
  };
  Coordinates at = base;
  at.seed = 6;
  expectIndependent(at, "seed");
  at = base;
  at.step = 4;
  expectIndependent(at, "step");
  at = base;
  at.rank = 0;
  expectIndependent(at, "rank");
  at = base;
  at.site = 3;
  expectIndependent(at, "site");
  at = base;
  at.microBatch = 2;
  expectIndependent(at, "micro-batch");
  at = base;
  at.replica = 1; // rank + replica: another stream
  expectIndependent(at, "replica");
}

TEST(DropoutKernel, BackwardRedrawsTheForwardMask) {
  const int64_t n = 4099; // not a multiple of four
  std::vector<float> x = dpc::test::randomVector(n, 11, 0.5f, 1.5f);
  std::vector<float> dy = dpc::test::randomVector(n, 12, 0.5f, 1.5f);
  Coordinates at{/*seed=*/99, /*step=*/7};
  std::vector<float> y = dropout(x, 0.3, at), dx = dropout(dy, 0.3, at);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(y[i] == 0.0f, dx[i] == 0.0f) << "element " << i;
  // An element's draw depends on its index only, not on the length.
  std::vector<float> shorter(x.begin(), x.begin() + 1001);
  std::vector<float> yShort = dropout(shorter, 0.3, at);
  for (int64_t i = 0; i < 1001; ++i)
    EXPECT_EQ(yShort[i], y[i]) << "element " << i;
}

TEST(DropoutKernel, RejectsInvalidArguments) {
  dpcrt_context ctx;
  float x = 1.0f, y = 0.0f;
  dpcrt_dropout_f32(&ctx, &y, &x, 1, 1.5, 0, 0, 0);
  EXPECT_EQ(ctx.error,
            "dropout probability has to be between 0 and 1, but got 1.500000");
  ctx.error.clear();
  dpcrt_dropout_f32(&ctx, &y, &x, 1, 0.5, 0, 1 << 16, 0);
  EXPECT_NE(ctx.error.find("out of range"), std::string::npos) << ctx.error;
}

std::vector<float> bernoulli(int64_t n, double p, const Coordinates &at = {}) {
  dpcrt_context ctx;
  ctx.seed = at.seed;
  ctx.step = at.step;
  ctx.rank = at.rank;
  std::vector<float> out(n, -1.0f);
  dpcrt_bernoulli_f32(&ctx, out.data(), n, p, at.site, at.microBatch,
                      at.replica);
  EXPECT_EQ(ctx.error, "");
  return out;
}

TEST(BernoulliKernel, RateAndValues) {
  const int64_t n = 1 << 20;
  for (double p : {0.05, 0.3, 0.5, 0.8, 0.97}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    std::vector<float> y = bernoulli(n, p, {/*seed=*/77});
    int64_t ones = 0;
    for (float v : y) {
      ASSERT_TRUE(v == 0.0f || v == 1.0f) << v;
      ones += v == 1.0f;
    }
    double expected = n * p, sd = std::sqrt(n * p * (1.0 - p));
    EXPECT_LT(std::abs(ones - expected), 6 * sd)
        << ones << " ones, expected " << expected;
  }
  for (float v : bernoulli(1001, 0.0))
    EXPECT_EQ(v, 0.0f);
  for (float v : bernoulli(1001, 1.0))
    EXPECT_EQ(v, 1.0f);
}

TEST(BernoulliKernel, EveryCoordinateDrawsItsOwnTensor) {
  const int64_t n = 1 << 16;
  Coordinates base{/*seed=*/5,       /*step=*/3,
                   /*rank=*/1,       /*site=*/2,
                   /*microBatch=*/1, /*replica=*/0};
  std::vector<float> reference = bernoulli(n, 0.5, base);
  EXPECT_EQ(bernoulli(n, 0.5, base), reference); // deterministic
  const double tolerance = 6 * 0.5 / std::sqrt(static_cast<double>(n));
  auto expectIndependent = [&](Coordinates at, const char *what) {
    EXPECT_NEAR(agreement(bernoulli(n, 0.5, at), reference), 0.5, tolerance)
        << what;
  };
  Coordinates at = base;
  at.seed = 6;
  expectIndependent(at, "seed");
  at = base;
  at.step = 4;
  expectIndependent(at, "step");
  at = base;
  at.rank = 0;
  expectIndependent(at, "rank");
  at = base;
  at.site = 3;
  expectIndependent(at, "site");
  at = base;
  at.microBatch = 2;
  expectIndependent(at, "micro-batch");
  at = base;
  at.replica = 1;
  expectIndependent(at, "replica");
  // An element's draw depends on its index only, not on the length.
  std::vector<float> shorter = bernoulli(1001, 0.5, base);
  for (int64_t i = 0; i < 1001; ++i)
    EXPECT_EQ(shorter[i], reference[i]) << "element " << i;
}

// One rule for both ops: at the same coordinates, bernoulli(1 - p) is 1
// exactly where dropout(p) keeps the element.
TEST(BernoulliKernel, DrawOfOneMinusPIsDropoutsKeepMask) {
  const int64_t n = 4099;
  std::vector<float> ones(n, 1.0f);
  Coordinates at{/*seed=*/99, /*step=*/7, /*rank=*/1, /*site=*/4};
  for (double p : {0.1, 0.37}) {
    std::vector<float> kept = dropout(ones, p, at),
                       drawn = bernoulli(n, 1 - p, at);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(kept[i] != 0.0f, drawn[i] == 1.0f)
          << "p " << p << ", element " << i;
  }
}

TEST(BernoulliKernel, RejectsInvalidArguments) {
  dpcrt_context ctx;
  float y = 0.0f;
  dpcrt_bernoulli_f32(&ctx, &y, 1, -0.5, 0, 0, 0);
  EXPECT_EQ(
      ctx.error,
      "bernoulli probability has to be between 0 and 1, but got -0.500000");
  ctx.error.clear();
  dpcrt_bernoulli_f32(&ctx, &y, 1, 0.5, -1, 0, 0);
  EXPECT_NE(ctx.error.find("out of range"), std::string::npos) << ctx.error;
}

} // namespace
