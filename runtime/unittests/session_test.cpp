//===- session_test.cpp - Loading and training hand-written modules -------===//
//
// The modules come from test_module.c: y = x @ w with MSE and SGD (lr 0.1),
// w initialized to [0.5, -0.25, 0.125, 1.0].
//
//===----------------------------------------------------------------------===//

#include "test_util.h"

#include <cmath>

#include <dlfcn.h>

namespace {

using namespace dpc;
using namespace dpc::test;

constexpr int kBatch = 8;

/// x[i][j] = sin(4i + j + 1), y = x @ [1, -2, 0.5, 3].
void makeBatch(int batch, std::vector<float> &x, std::vector<float> &y) {
  const float wTrue[4] = {1, -2, 0.5f, 3};
  x.resize(batch * 4);
  y.resize(batch);
  for (int i = 0; i < batch; ++i) {
    y[i] = 0;
    for (int j = 0; j < 4; ++j) {
      x[i * 4 + j] = std::sin(static_cast<float>(4 * i + j + 1));
      y[i] += x[i * 4 + j] * wTrue[j];
    }
  }
}

/// The SGD step written out by hand: pred = x w, grad = 2/B x^T (pred - y),
/// w -= 0.1 grad (plus momentum when given).
void referenceStep(std::vector<double> &w, std::vector<double> &buf,
                   const std::vector<float> &x, const std::vector<float> &y,
                   int batch, double momentum, bool first) {
  std::vector<double> grad(4, 0.0);
  for (int i = 0; i < batch; ++i) {
    double pred = 0;
    for (int j = 0; j < 4; ++j)
      pred += x[i * 4 + j] * w[j];
    for (int j = 0; j < 4; ++j)
      grad[j] += 2.0 / batch * (pred - y[i]) * x[i * 4 + j];
  }
  for (int j = 0; j < 4; ++j) {
    double d = grad[j];
    if (momentum != 0) {
      buf[j] = first ? d : momentum * buf[j] + d;
      d = buf[j];
    }
    w[j] -= 0.1 * d;
  }
}

TEST(SessionTest, LoadsAndTrains) {
  Session s = Session::load(DPC_TEST_MODULE);
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.worldSize(), 1);
  // Auto: the GPU where there is one (the test module runs on either).
  EXPECT_EQ(s.backend(), cudaDeviceCount() > 0 ? Backend::Cuda : Backend::Cpu);
  EXPECT_EQ(s.manifest().producer, "test_module.c");
  EXPECT_EQ(s.stepCount(), 0);
  float *w = s.parameterData("w");
  EXPECT_EQ(std::vector<float>(w, w + 4),
            (std::vector<float>{0.5f, -0.25f, 0.125f, 1.0f}));

  std::vector<float> x, y;
  makeBatch(kBatch, x, y);
  std::vector<double> ref = {0.5, -0.25, 0.125, 1.0}, buf(4);
  float previous = INFINITY;
  for (int step = 0; step < 20; ++step) {
    double loss = s.step({x.data(), y.data()});
    EXPECT_LT(loss, previous) << "step " << step;
    previous = loss;
    referenceStep(ref, buf, x, y, kBatch, 0.0, step == 0);
    for (int j = 0; j < 4; ++j)
      EXPECT_NEAR(w[j], ref[j], 1e-6) << "step " << step << " w[" << j << "]";
  }
  EXPECT_LT(previous, 0.5f);
  EXPECT_EQ(s.stepCount(), 20);
}

TEST(SessionTest, MomentumMatchesReference) {
  Session s = Session::load(DPC_TEST_MODULE_MOMENTUM);
  std::vector<float> x, y;
  makeBatch(kBatch, x, y);
  std::vector<double> ref = {0.5, -0.25, 0.125, 1.0}, buf(4);
  for (int step = 0; step < 5; ++step) {
    s.step({x.data(), y.data()});
    referenceStep(ref, buf, x, y, kBatch, 0.9, step == 0);
  }
  float *w = s.parameterData("w");
  const float *m =
      static_cast<const float *>(s.tensor("optimizer.w.momentum_buffer").data);
  for (int j = 0; j < 4; ++j) {
    EXPECT_NEAR(w[j], ref[j], 1e-6);
    EXPECT_NEAR(m[j], buf[j], 1e-5);
  }
}

TEST(SessionTest, StepAndAccessorErrors) {
  Session s = Session::load(DPC_TEST_MODULE);
  std::vector<float> x(32);
  EXPECT_DPC_ERROR(s.step({x.data()}),
                   "takes 2 tensors (inputs, then the label), got 1");
  EXPECT_DPC_ERROR(s.step({x.data(), nullptr}), "step: no data for 'y'");
  EXPECT_DPC_ERROR(s.tensor("fc1.weight"),
                   "has no parameter, buffer or optimizer state 'fc1.weight'");
  EXPECT_DPC_ERROR(s.parameterData("optimizer.step"),
                   "has no parameter or buffer 'optimizer.step'");
  EXPECT_EQ(s.stepCount(), 0);
}

TEST(SessionTest, MovesKeepState) {
  Session a = Session::load(DPC_TEST_MODULE);
  std::vector<float> x, y;
  makeBatch(kBatch, x, y);
  a.step({x.data(), y.data()});
  Session b = std::move(a);
  EXPECT_EQ(b.stepCount(), 1);
  b.step({x.data(), y.data()});
  EXPECT_EQ(b.stepCount(), 2);
}

TEST(SessionTest, CheckpointRoundTrip) {
  TempDir dir;
  std::string ckpt = dir.path("ckpt.safetensors");
  std::vector<float> x, y;
  makeBatch(kBatch, x, y);

  Session a = Session::load(DPC_TEST_MODULE_MOMENTUM);
  for (int i = 0; i < 3; ++i)
    a.step({x.data(), y.data()});
  a.saveCheckpoint(ckpt);
  for (int i = 0; i < 2; ++i)
    a.step({x.data(), y.data()});

  SafetensorsFile f = readSafetensors(ckpt);
  EXPECT_EQ(f.metadata.at("format"), "pt");
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors.at("w").shape, (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(f.tensors.at("optimizer.w.momentum_buffer").dtype, DType::F32);
  EXPECT_EQ(f.tensors.at("optimizer.step").dtype, DType::I64);
  EXPECT_EQ(f.tensors.at("optimizer.step").data<int64_t>()[0], 3);

  Session b = Session::load(DPC_TEST_MODULE_MOMENTUM);
  b.loadCheckpoint(ckpt);
  EXPECT_EQ(b.stepCount(), 3);
  for (int i = 0; i < 2; ++i)
    b.step({x.data(), y.data()});
  // Resuming is bit-identical to never stopping.
  EXPECT_EQ(std::vector<float>(a.parameterData("w"), a.parameterData("w") + 4),
            std::vector<float>(b.parameterData("w"), b.parameterData("w") + 4));
  const char *key = "optimizer.w.momentum_buffer";
  EXPECT_EQ(std::memcmp(a.tensor(key).data, b.tensor(key).data, 16), 0);
  EXPECT_EQ(b.stepCount(), 5);
}

TEST(SessionTest, CheckpointErrors) {
  TempDir dir;
  Session plain = Session::load(DPC_TEST_MODULE);
  std::string plainCkpt = dir.path("plain.safetensors");
  plain.saveCheckpoint(plainCkpt);

  Session s = Session::load(DPC_TEST_MODULE_MOMENTUM);
  EXPECT_DPC_ERROR(s.loadCheckpoint(plainCkpt),
                   plainCkpt +
                       ": missing tensor 'optimizer.w.momentum_buffer'");

  std::vector<float> w(4, 9.0f), m(4);
  int64_t step = 1;
  std::string bad = dir.path("bad.safetensors");
  writeSafetensors(
      bad, {{"w", DType::F32, {4}, w.data()},
            {"optimizer.w.momentum_buffer", DType::F32, {4, 1}, m.data()},
            {"optimizer.step", DType::I64, {}, &step}});
  EXPECT_DPC_ERROR(s.loadCheckpoint(bad),
                   bad + ": tensor 'w' is f32[4], " DPC_TEST_MODULE_MOMENTUM
                         " expects f32[4, 1]");
  writeSafetensors(
      bad, {{"w", DType::F32, {4, 1}, w.data()},
            {"optimizer.w.momentum_buffer", DType::F32, {4, 1}, m.data()},
            {"optimizer.step", DType::I64, {}, &step},
            {"fc.bias", DType::F32, {4}, w.data()}});
  EXPECT_DPC_ERROR(s.loadCheckpoint(bad),
                   bad + ": unexpected tensor 'fc.bias'");
  writeBytes(bad, "garbage");
  EXPECT_DPC_ERROR(s.loadCheckpoint(bad), bad + ": not a safetensors file");
  EXPECT_DPC_ERROR(s.loadCheckpoint(dir.path("none.safetensors")),
                   "cannot open");

  // Failed loads change nothing.
  EXPECT_EQ(s.parameterData("w")[0], 0.5f);
  EXPECT_EQ(s.stepCount(), 0);

  EXPECT_DPC_ERROR(s.saveCheckpoint(dir.path("missing/dir/c.safetensors")),
                   "cannot write");
}

TEST(SessionTest, LoadErrors) {
  EXPECT_DPC_ERROR(Session::load(DPC_TEST_MODULE_WS2),
                   DPC_TEST_MODULE_WS2 " was compiled for --world-size 2 but "
                                       "runs on 1 rank (launch it with mpirun "
                                       "-np 2)");
  // The module calls a kernel this runtime lacks, so dlopen fails; the
  // manifest still explains why.
  EXPECT_DPC_ERROR(Session::load(DPC_TEST_MODULE_ABI2),
                   DPC_TEST_MODULE_ABI2 " was built for dpc ABI 2, this "
                                        "runtime speaks 1");
  EXPECT_DPC_ERROR(Session::load("/nonexistent/model.so"),
                   "cannot load /nonexistent/model.so: ");
  TempDir dir;
  writeBytes(dir.path("text.so"), "not an ELF file");
  EXPECT_DPC_ERROR(Session::load(dir.path("text.so")), "cannot load");
  if (!backendAvailable(Backend::Cuda))
    EXPECT_DPC_ERROR(
        Session::load(DPC_TEST_MODULE, SessionOptions{Backend::Cuda}),
        "backend 'cuda' is not available");
}

TEST(SessionTest, RejectsSharedObjectsThatAreNotModules) {
  // libdpcrt itself is a loadable .so without the module symbols.
  Dl_info info;
  ASSERT_TRUE(dladdr(reinterpret_cast<void *>(&dpcrt_fill_f32), &info));
  EXPECT_DPC_ERROR(
      Session::load(info.dli_fname),
      "is not a dpc module: it does not export dpc_model_manifest");
}

TEST(SessionTest, RefusesTruncatedAndCorruptedModules) {
  // dlopen of such files died of SIGBUS or SIGSEGV inside the loader.
  std::string image = readBytes(DPC_TEST_MODULE);
  ASSERT_GT(image.size(), 1000u);
  TempDir dir;
  std::string copy = dir.path("m.so");
  for (size_t percent = 1; percent < 100; percent += 7) {
    writeBytes(copy, image.substr(0, image.size() * percent / 100));
    EXPECT_DPC_ERROR(Session::load(copy), "cannot load " + copy + ": ");
  }
  // Without its trailer: complete as an ELF file, but no longer checkable.
  writeBytes(copy, image.substr(0, image.size() - DPC_MODULE_TRAILER_BYTES));
  EXPECT_DPC_ERROR(Session::load(copy), "it has no checksum trailer");
  // One flipped bit of code or data.
  for (size_t at : {size_t(100), image.size() / 2, image.size() - 100}) {
    std::string flipped = image;
    flipped[at] ^= 0x10;
    writeBytes(copy, flipped);
    EXPECT_DPC_ERROR(Session::load(copy), "cannot load " + copy + ": ");
  }
  // The intact copy loads.
  writeBytes(copy, image);
  Session::load(copy);
}

} // namespace
