//===- replicas_test.cpp - dpcrt_run_replicas (--mode dp stages) ----------===//
//
// The replica functions of a stage must run at the same time, each with a
// context of its own, see the environment they are given, and report their
// errors through the caller's context; kernels (OpenBLAS GEMMs included)
// must give the same results when called from several replicas at once.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "test_util.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

namespace {

/// What a replica function sees; shared through `env`.
struct Probe {
  int replicas = 0;
  std::atomic<int> arrived{0};
  std::atomic<bool> allMet{true};
  std::thread::id threads[8];
  dpcrt_context *contexts[8] = {};
  int64_t steps[8] = {};
};

/// Replica r: records its thread and context, then waits (up to 10 s) until
/// every replica of the stage has arrived, which only happens if they run
/// concurrently.
template <int R> void meet(dpcrt_context *ctx, void *const *env) {
  auto *probe = static_cast<Probe *>(env[0]);
  probe->threads[R] = std::this_thread::get_id();
  probe->contexts[R] = ctx;
  probe->steps[R] = ctx->step;
  probe->arrived.fetch_add(1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (probe->arrived.load() < probe->replicas)
    if (std::chrono::steady_clock::now() > deadline) {
      probe->allMet = false;
      return;
    }
}

TEST(RunReplicasTest, RunsConcurrentlyOnDistinctThreadsAndContexts) {
  dpcrt_context ctx;
  ctx.step = 7;
  Probe probe;
  probe.replicas = 3;
  void *env[] = {&probe};
  dpcrt_replica_fn fns[] = {meet<0>, meet<1>, meet<2>};
  dpcrt_run_replicas(&ctx, 3, fns, env);
  EXPECT_TRUE(probe.allMet) << "the replicas did not run at the same time";
  EXPECT_EQ(probe.arrived.load(), 3);
  // Replica 0 runs on the calling thread, the others on their own.
  EXPECT_EQ(probe.threads[0], std::this_thread::get_id());
  EXPECT_NE(probe.threads[1], probe.threads[0]);
  EXPECT_NE(probe.threads[2], probe.threads[0]);
  EXPECT_NE(probe.threads[2], probe.threads[1]);
  // Each replica has a context of its own with the caller's step counter.
  for (int r = 0; r < 3; ++r) {
    EXPECT_NE(probe.contexts[r], &ctx);
    EXPECT_EQ(probe.steps[r], 7);
    for (int q = 0; q < r; ++q)
      EXPECT_NE(probe.contexts[r], probe.contexts[q]);
  }
  EXPECT_TRUE(ctx.error.empty()) << ctx.error;
}

TEST(RunReplicasTest, WorkersPersistAcrossStages) {
  dpcrt_context ctx;
  std::thread::id first[3];
  for (int stage = 0; stage < 3; ++stage) {
    Probe probe;
    probe.replicas = 3;
    void *env[] = {&probe};
    dpcrt_replica_fn fns[] = {meet<0>, meet<1>, meet<2>};
    dpcrt_run_replicas(&ctx, 3, fns, env);
    ASSERT_TRUE(probe.allMet);
    if (stage == 0)
      std::copy(std::begin(probe.threads), std::begin(probe.threads) + 3,
                first);
    else
      for (int r = 0; r < 3; ++r)
        EXPECT_EQ(probe.threads[r], first[r]) << "stage " << stage;
  }
}

TEST(RunReplicasTest, OneReplicaRunsInPlace) {
  dpcrt_context ctx;
  Probe probe;
  probe.replicas = 1;
  void *env[] = {&probe};
  dpcrt_replica_fn fns[] = {meet<0>};
  dpcrt_run_replicas(&ctx, 1, fns, env);
  EXPECT_EQ(probe.arrived.load(), 1);
  EXPECT_EQ(probe.threads[0], std::this_thread::get_id());
  EXPECT_EQ(probe.contexts[0], &ctx);
}

template <int R> void fail(dpcrt_context *ctx, void *const *) {
  if (R > 0)
    dpc::recordError(ctx, "label " + std::to_string(10 * R) + " out of range");
}

TEST(RunReplicasTest, ErrorsReachTheCallerNamedByReplica) {
  dpcrt_context ctx;
  dpcrt_replica_fn fns[] = {fail<0>, fail<1>, fail<2>};
  dpcrt_run_replicas(&ctx, 3, fns, nullptr);
  // The first failing replica in replica order; the context is clean for
  // the next stage.
  EXPECT_EQ(ctx.error, "replica 1: label 10 out of range");
  ctx.error.clear();
  dpcrt_replica_fn ok[] = {fail<0>, fail<0>, fail<0>};
  dpcrt_run_replicas(&ctx, 3, ok, nullptr);
  EXPECT_TRUE(ctx.error.empty()) << ctx.error;
}

/// A nested stage (a replica function that runs replicas) runs its
/// functions one after the other instead of waiting for busy workers.
void nested(dpcrt_context *ctx, void *const *env) {
  auto *count = static_cast<std::atomic<int> *>(env[0]);
  dpcrt_replica_fn inner[] = {
      [](dpcrt_context *, void *const *e) {
        static_cast<std::atomic<int> *>(e[0])->fetch_add(1);
      },
      [](dpcrt_context *, void *const *e) {
        static_cast<std::atomic<int> *>(e[0])->fetch_add(1);
      }};
  dpcrt_run_replicas(ctx, 2, inner, env);
  count->fetch_add(100);
}

TEST(RunReplicasTest, NestedStagesRunInline) {
  dpcrt_context ctx;
  std::atomic<int> count{0};
  void *env[] = {&count};
  dpcrt_replica_fn fns[] = {nested, nested};
  dpcrt_run_replicas(&ctx, 2, fns, env);
  EXPECT_EQ(count.load(), 204);
}

/// Each replica multiplies its own matrices with dpcrt_gemm_f32; env holds
/// per replica (a, b, c) with fixed sizes.
constexpr int64_t kM = 48, kN = 40, kK = 56;
template <int R> void gemm(dpcrt_context *ctx, void *const *env) {
  for (int repeat = 0; repeat < 20; ++repeat)
    dpcrt_gemm_f32(ctx, static_cast<float *>(env[3 * R + 2]),
                   static_cast<const float *>(env[3 * R]),
                   static_cast<const float *>(env[3 * R + 1]), kM, kN, kK, 0, 1,
                   0.0f);
}

TEST(RunReplicasTest, ConcurrentGemmsMatchSerialOnes) {
  constexpr int n = 4;
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<std::vector<float>> a(n), b(n), c(n), want(n);
  std::vector<void *> env;
  dpcrt_context ctx;
  for (int r = 0; r < n; ++r) {
    a[r].resize(kM * kK);
    b[r].resize(kN * kK);
    for (float &x : a[r])
      x = dist(gen);
    for (float &x : b[r])
      x = dist(gen);
    c[r].assign(kM * kN, 0.0f);
    want[r].assign(kM * kN, 0.0f);
    dpcrt_gemm_f32(&ctx, want[r].data(), a[r].data(), b[r].data(), kM, kN, kK,
                   0, 1, 0.0f);
    env.insert(env.end(), {a[r].data(), b[r].data(), c[r].data()});
  }
  dpcrt_replica_fn fns[] = {gemm<0>, gemm<1>, gemm<2>, gemm<3>};
  dpcrt_run_replicas(&ctx, n, fns, env.data());
  EXPECT_TRUE(ctx.error.empty()) << ctx.error;
  // A race would give garbage; BLAS thread counts may round differently.
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < want[r].size(); ++i)
      ASSERT_NEAR(c[r][i], want[r][i], 1e-5f * (1.0f + std::fabs(want[r][i])))
          << "replica " << r << " element " << i;
}

} // namespace
