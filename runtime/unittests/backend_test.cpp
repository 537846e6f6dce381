//===- backend_test.cpp - Choosing the CPU or cuda backend ----------------===//
//
// Runs in every build: without a GPU (or without the cuda backend) Auto
// must fall back to the CPU and an explicit cuda request must fail with a
// one-line reason; with a GPU, the test module must train the same on both
// backends.
//
//===----------------------------------------------------------------------===//

#include "test_util.h"

#include <cmath>

using namespace dpc;
using namespace dpc::test;

namespace {

/// The test module's linear regression data (see test_module.c), batch 8.
void makeBatch(std::vector<float> &x, std::vector<float> &y) {
  x.resize(32);
  y.resize(8);
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 4; ++j)
      x[i * 4 + j] = std::sin(0.7f * i + 1.3f * j);
    y[i] = std::cos(0.5f * i);
  }
}

TEST(BackendTest, CpuIsAlwaysAvailable) {
  EXPECT_TRUE(backendAvailable(Backend::Cpu));
  EXPECT_TRUE(backendAvailable(Backend::Auto));
  Session s = Session::load(DPC_TEST_MODULE, SessionOptions{Backend::Cpu});
  EXPECT_EQ(s.backend(), Backend::Cpu);
}

TEST(BackendTest, AutoPicksTheCpuWithoutAGpu) {
  if (cudaDeviceCount() > 0)
    GTEST_SKIP() << "a GPU is present";
  Session s = Session::load(DPC_TEST_MODULE, SessionOptions{Backend::Auto});
  EXPECT_EQ(s.backend(), Backend::Cpu);
}

TEST(BackendTest, CudaWithoutAGpuIsAClearError) {
  if (cudaDeviceCount() > 0)
    GTEST_SKIP() << "a GPU is present";
  if (!backendAvailable(Backend::Cuda)) {
    EXPECT_EQ(cudaDeviceCount(), 0);
    EXPECT_DPC_ERROR(
        Session::load(DPC_TEST_MODULE, SessionOptions{Backend::Cuda}),
        "backend 'cuda' is not available: this runtime was "
        "built without CUDA");
  } else {
    EXPECT_DPC_ERROR(
        Session::load(DPC_TEST_MODULE, SessionOptions{Backend::Cuda}),
        "backend 'cuda': no CUDA device found");
  }
}

TEST(BackendTest, CudaTrainsLikeTheCpu) {
  if (cudaDeviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  Session cpu = Session::load(DPC_TEST_MODULE, SessionOptions{Backend::Cpu});
  Session gpu = Session::load(DPC_TEST_MODULE, SessionOptions{Backend::Cuda});
  EXPECT_EQ(gpu.backend(), Backend::Cuda);
  std::vector<float> x, y;
  makeBatch(x, y);
  for (int step = 0; step < 5; ++step) {
    float a = cpu.step({x.data(), y.data()});
    float b = gpu.step({x.data(), y.data()});
    // GEMMs of 8 terms: a few ulps apart at most.
    EXPECT_NEAR(b, a, 1e-5f * std::max(1.0f, std::fabs(a))) << "step " << step;
  }
  const float *w = cpu.parameterData("w");
  const float *v = gpu.parameterData("w");
  for (int j = 0; j < 4; ++j)
    EXPECT_NEAR(v[j], w[j], 1e-5f * std::max(1.0f, std::fabs(w[j])));

  // Writes through the host view reach the device before the next step.
  gpu.parameterData("w")[0] = 2.0f;
  cpu.parameterData("w")[0] = 2.0f;
  EXPECT_NEAR(gpu.step({x.data(), y.data()}), cpu.step({x.data(), y.data()}),
              1e-4f);
  EXPECT_NEAR(gpu.parameterData("w")[0], cpu.parameterData("w")[0], 1e-5f);

  // Checkpoints round-trip through the device.
  TempDir dir;
  gpu.saveCheckpoint(dir.path("gpu.safetensors"));
  Session other = Session::load(DPC_TEST_MODULE, SessionOptions{Backend::Cuda});
  other.loadCheckpoint(dir.path("gpu.safetensors"));
  EXPECT_EQ(other.stepCount(), gpu.stepCount());
  for (int j = 0; j < 4; ++j)
    EXPECT_EQ(other.parameterData("w")[j], gpu.parameterData("w")[j]);
}

} // namespace
