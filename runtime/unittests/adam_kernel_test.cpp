//===- adam_kernel_test.cpp - dpcrt_adam_update_f32 against torch.optim ---===//
//
// The expected values in adam_reference.inc were produced by torch 1.13's
// torch.optim.Adam / AdamW (gen_adam_reference.py): three steps on 19
// elements, which covers both the 8-wide vector loop and the scalar tail of
// torch's AVX2 kernels. The kernel mirrors torch's float operations one by
// one, so the results must be bitwise identical.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "test_util.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace {

#include "adam_reference.inc"

struct AdamCase {
  const char *name;
  double lr, beta1, beta2, eps, weightDecay;
  bool decoupled;
  const float *param, *expAvg, *expAvgSq;
};

const AdamCase kCases[] = {
    {"Adam", 1e-3, 0.9, 0.999, 1e-8, 0.01, false, kAdamParam, kAdamExpAvg,
     kAdamExpAvgSq},
    {"AdamW", 1e-3, 0.9, 0.999, 1e-8, 0.1, true, kAdamWParam, kAdamWExpAvg,
     kAdamWExpAvgSq},
    {"AdamOddBetas", 0.05, 0.8, 0.99, 1e-6, 0.0, false, kAdamOddBetasParam,
     kAdamOddBetasExpAvg, kAdamOddBetasExpAvgSq},
    {"AdamWOddBetas", 0.05, 0.5, 0.9, 1e-3, 0.3, true, kAdamWOddBetasParam,
     kAdamWOddBetasExpAvg, kAdamWOddBetasExpAvgSq},
};

void expectBitwise(const std::vector<float> &got, const float *want,
                   const char *what, const char *name) {
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i], want[i])
        << name << " " << what << "[" << i << "]: " << std::hexfloat << got[i]
        << " vs torch's " << want[i];
}

TEST(AdamKernelTest, MatchesTorchOptimBitwise) {
  const float *grads[kAdamRefSteps] = {kAdamRefGrad0, kAdamRefGrad1,
                                       kAdamRefGrad2};
  for (const AdamCase &c : kCases) {
    dpcrt_context ctx;
    std::vector<float> param(kAdamRefParam0, kAdamRefParam0 + kAdamRefN);
    // Garbage-free zeros, as the runtime allocates optimizer state.
    std::vector<float> expAvg(kAdamRefN, 0.0f), expAvgSq(kAdamRefN, 0.0f);
    for (int step = 0; step < kAdamRefSteps; ++step) {
      ctx.step = step;
      dpcrt_adam_update_f32(&ctx, param.data(), expAvg.data(), expAvgSq.data(),
                            grads[step], kAdamRefN, c.lr, c.beta1, c.beta2,
                            c.eps, c.weightDecay, c.decoupled);
    }
    EXPECT_EQ(ctx.error, "");
    expectBitwise(param, c.param, "param", c.name);
    expectBitwise(expAvg, c.expAvg, "exp_avg", c.name);
    expectBitwise(expAvgSq, c.expAvgSq, "exp_avg_sq", c.name);
  }
}

// The step counter, not the state, decides the bias correction: a restored
// checkpoint continues with the right t.
TEST(AdamKernelTest, BiasCorrectionFollowsTheStepCounter) {
  dpcrt_context ctx;
  ctx.step = 9; // the 10th step: t = 10
  float p = 1.0f, m = 0.0f, v = 0.0f, g = 0.5f;
  dpcrt_adam_update_f32(&ctx, &p, &m, &v, &g, 1, 0.1, 0.9, 0.999, 1e-8, 0.0, 0);
  // m = 0.05, v = 0.00025; m_hat = m / (1 - 0.9^10), v_hat = v / (1 - 0.999^10)
  double mHat = 0.05 / (1 - std::pow(0.9, 10));
  double vHat = 0.00025 / (1 - std::pow(0.999, 10));
  EXPECT_NEAR(p, 1.0 - 0.1 * mHat / (std::sqrt(vHat) + 1e-8), 1e-6);
  EXPECT_FLOAT_EQ(m, 0.05f);
  EXPECT_FLOAT_EQ(v, 0.00025f);
}

TEST(AdamKernelTest, EmptyAndMissingState) {
  dpcrt_context ctx;
  float p = 1.0f, g = 1.0f, m = 0.0f;
  dpcrt_adam_update_f32(&ctx, &p, &m, &m, &g, 0, 0.1, 0.9, 0.999, 1e-8, 0, 0);
  EXPECT_EQ(p, 1.0f);
  EXPECT_EQ(ctx.error, "");
  dpcrt_adam_update_f32(&ctx, &p, &m, nullptr, &g, 1, 0.1, 0.9, 0.999, 1e-8, 0,
                        0);
  EXPECT_NE(ctx.error.find("exp_avg_sq"), std::string::npos);
  EXPECT_EQ(p, 1.0f);
}

} // namespace
