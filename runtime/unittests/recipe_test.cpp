//===- recipe_test.cpp - Clipping kernels, LrSchedule, learning rates -----===//

#include "core/backend.h"
#include "core/context.h"
#include "dpc/lr_schedule.h"
#include "dpc/runtime.h"
#include "test_util.h"

#include <cmath>
#include <gtest/gtest.h>
#include <vector>

using namespace dpc;

namespace {

// clip_grad_norm_ by hand: norms 5 (3,4) and 12 (12), total 13, so the
// factor is float(1 / (13 + 1e-6)) * 6.5.
TEST(ClipKernelsTest, GlobalNormScalesEveryGradient) {
  dpcrt_context ctx;
  std::vector<float> a = {3.0f, -4.0f}, b = {12.0f};
  float *grads[] = {a.data(), b.data()};
  int64_t sizes[] = {2, 1};
  dpcrt_clip_grad_norm_f32(&ctx, grads, sizes, 2, 6.5, 2.0);
  float coef = (1.0f / (13.0f + 1e-6f)) * 6.5f;
  EXPECT_EQ(a[0], 3.0f * coef);
  EXPECT_EQ(a[1], -4.0f * coef);
  EXPECT_EQ(b[0], 12.0f * coef);
  EXPECT_TRUE(ctx.error.empty());
}

TEST(ClipKernelsTest, SmallNormIsLeftAlone) {
  dpcrt_context ctx;
  std::vector<float> a = {0.25f, -0.5f};
  float *grads[] = {a.data()};
  int64_t sizes[] = {2};
  dpcrt_clip_grad_norm_f32(&ctx, grads, sizes, 1, 10.0, 2.0);
  EXPECT_EQ(a[0], 0.25f); // coefficient clamped to 1
  EXPECT_EQ(a[1], -0.5f);
}

TEST(ClipKernelsTest, InfNormAndNaN) {
  dpcrt_context ctx;
  std::vector<float> a = {1.0f, -8.0f}, b = {2.0f};
  float *grads[] = {a.data(), b.data()};
  int64_t sizes[] = {2, 1};
  dpcrt_clip_grad_norm_f32(&ctx, grads, sizes, 2, 4.0, INFINITY);
  float coef = (1.0f / (8.0f + 1e-6f)) * 4.0f;
  EXPECT_EQ(a[1], -8.0f * coef);
  EXPECT_EQ(b[0], 2.0f * coef);
  // A NaN gradient makes the norm and every gradient NaN, as in torch.
  std::vector<float> c = {NAN, 1.0f};
  float *nanGrads[] = {c.data()};
  int64_t nanSizes[] = {2};
  dpcrt_clip_grad_norm_f32(&ctx, nanGrads, nanSizes, 1, 1.0, 2.0);
  EXPECT_TRUE(std::isnan(c[1]));
}

TEST(ClipKernelsTest, Value) {
  dpcrt_context ctx;
  std::vector<float> g = {-3.0f, 0.1f, 2.0f, NAN};
  dpcrt_clip_grad_value_f32(&ctx, g.data(), 4, 0.5);
  EXPECT_EQ(g[0], -0.5f);
  EXPECT_EQ(g[1], 0.1f);
  EXPECT_EQ(g[2], 0.5f);
  EXPECT_TRUE(std::isnan(g[3]));
}

// The step's gradient norm (Session::gradientNorm) is the L2 norm of the
// gradients before clipping: the clip kernels count them when they clip,
// else the optimizer updates; reading it resets the sums.
TEST(GradientNormTest, CountedBeforeClippingElseAtTheUpdate) {
  dpcrt_context ctx;
  const BackendTable &backend = backendOf(&ctx);
  std::vector<float> a = {3.0f, -4.0f}, b = {12.0f};
  std::vector<float> pa(2, 0.0f), pb(1, 0.0f), ma(2), mb(1), va(2), vb(1);
  // No clipping: SGD and Adam updates count 3^2 + 4^2 and 12^2.
  dpcrt_sgd_update_f32(&ctx, pa.data(), nullptr, a.data(), 2, 0.1f, 0.0f, 0.0f,
                       0.0f, 0);
  dpcrt_adam_update_f32(&ctx, pb.data(), mb.data(), vb.data(), b.data(), 1, 0.1,
                        0.9, 0.999, 1e-8, 0.0, 1);
  EXPECT_EQ(backend.takeGradientNorm(&ctx), 13.0);
  EXPECT_EQ(backend.takeGradientNorm(&ctx), 0.0);
  // clip_grad_norm_ to 6.5: the norm before it (13), not the 6.5 after.
  float *grads[] = {a.data(), b.data()};
  int64_t sizes[] = {2, 1};
  dpcrt_clip_grad_norm_f32(&ctx, grads, sizes, 2, 6.5, 2.0);
  dpcrt_sgd_update_f32(&ctx, pa.data(), nullptr, a.data(), 2, 0.1f, 0.0f, 0.0f,
                       0.0f, 0);
  dpcrt_sgd_update_f32(&ctx, pb.data(), nullptr, b.data(), 1, 0.1f, 0.0f, 0.0f,
                       0.0f, 0);
  EXPECT_EQ(backend.takeGradientNorm(&ctx), 13.0);
  // clip_grad_value_ to 1: the norm of the values before the clamp.
  std::vector<float> c = {0.6f, -8.0f};
  dpcrt_clip_grad_value_f32(&ctx, c.data(), 2, 1.0);
  dpcrt_sgd_update_f32(&ctx, pa.data(), nullptr, c.data(), 2, 0.1f, 0.0f, 0.0f,
                       0.0f, 0);
  EXPECT_DOUBLE_EQ(backend.takeGradientNorm(&ctx),
                   std::sqrt(double(0.6f) * double(0.6f) + 64.0));
}

TEST(LearningRateTest, RuntimeFunctionReadsTheGroup) {
  dpcrt_context ctx;
  ctx.learningRates = {0.1, 0.02};
  EXPECT_EQ(dpcrt_learning_rate(&ctx, 1), 0.02);
  EXPECT_EQ(dpcrt_learning_rate(&ctx, 2), 0.0);
  EXPECT_NE(ctx.error.find("parameter group 2, but the session has 2"),
            std::string::npos);
}

TEST(LearningRateTest, ModuleWithoutGroupsCannotChangeIt) {
  Session s = Session::load(DPC_TEST_MODULE);
  EXPECT_EQ(s.numParamGroups(), 0);
  EXPECT_DPC_ERROR(s.setLearningRate(0.1), "has its learning rate compiled in");
  EXPECT_DPC_ERROR(s.setLearningRate(-1.0),
                   "learning rate -1 is not a finite non-negative number");
  EXPECT_DPC_ERROR(s.setMomentum(0.5), "has its momentum compiled in");
  EXPECT_DPC_ERROR(s.momentum(), "has its momentum compiled in");
}

// The C++ API of the schedules (the formulas are checked against torch in
// test/E2E/lr-schedules.test): warmup then cosine, two groups.
TEST(LrScheduleTest, SequentialWarmupCosine) {
  LrSchedule schedule("linear:start_factor=0.5,total_iters=2 |2| "
                      "cosine:T_max=4");
  schedule.start({0.2, 0.02});
  EXPECT_EQ(schedule.learningRates(), (std::vector<double>{0.1, 0.01}));
  schedule.step();
  schedule.step(); // the milestone: cosine from the initial lr
  EXPECT_EQ(schedule.learningRates(), (std::vector<double>{0.2, 0.02}));
  for (int i = 0; i < 4; ++i)
    schedule.step();
  EXPECT_NEAR(schedule.learningRates()[0], 0.0, 1e-17);
  EXPECT_EQ(schedule.stepsTaken(), 6);
  EXPECT_DPC_ERROR(LrSchedule("cosine:T_max=0"), "T_max must be at least 1");
  EXPECT_DPC_ERROR(LrSchedule("step:step_size=2|x|exponential:gamma=0.5"),
                   "milestone 'x' is not a positive step number");
}

} // namespace
