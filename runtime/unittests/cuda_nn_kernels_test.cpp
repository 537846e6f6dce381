//===- cuda_nn_kernels_test.cpp - CUDA CNN/transformer kernels vs the CPU -===//
//
// Every CNN and transformer kernel (convolution, pooling, normalization,
// embedding, softmax, NLL loss, GELU, ...) against the CPU kernel of the
// same name, on random non-zero inputs of several shapes.
// Tolerances are normwise: max|gpu - cpu| <= tol * max|cpu|.
//
//  - kBitwise (0): kernels that perform the CPU's float operations in the
//    CPU's order (pooling and its gradients, the batch-norm backward,
//    embedding and its gradient, NLL, the layer-norm column sums given the
//    same row statistics).
//  - kRounding (1e-6, about 8 float ulps of the largest value): kernels
//    whose double sums are tree-reduced instead of sequential, or whose
//    exp/log/erf/tanh come from CUDA's double functions rather than
//    glibc's float ones; either changes a result by at most an ulp or so.
//  - kGeluGrad (4e-6): the tanh form's gradient multiplies 1 - tanh^2,
//    where a 1-ulp difference of tanh near +-1 is amplified by
//    0.5 * |x| * sqrt(2/pi) * (1 + 3 * 0.044715 * x^2) (about 30 at
//    |x| = 8); a host emulation of these formulas over 200000 inputs in
//    [-8, 8] differed from the CPU kernel by at most 3.7e-7 normwise.
//  - kConv (1e-5): cuDNN reassociates the convolution sums (and fuses
//    multiply-adds) differently from OpenBLAS. For K terms of size ~1 the
//    rounding error of either order is ~sqrt(K) * 2^-24 * max|term| in
//    practice (worst case K * 2^-24); with K up to ~600 here that is a few
//    1e-6 of the output's scale, so 1e-5 leaves a margin while still
//    catching any indexing mistake (which would be O(1)).
//
// Tests skip themselves on machines without a GPU.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cuda/cuda_backend.h"
#include "test_util.h"

#include <climits>
#include <cmath>
#include <limits>
#include <memory>
#include <random>

namespace dpc::cuda {
/// The CUDA backend's context set-up (cuda_context.cpp): makes ctx a CUDA
/// context on `device` with its DeviceState; false on failure.
bool initContext(dpcrt_context *ctx, int device);
} // namespace dpc::cuda

namespace {

constexpr double kBitwise = 0.0;
constexpr double kRounding = 1e-6;
constexpr double kGeluGrad = 4e-6;
constexpr double kConv = 1e-5;

/// A CUDA context on device 0 (dpc::cuda::createState makes ctx a CUDA
/// context with its streams and cuBLAS/cuDNN handles; the context's
/// destructor releases them); null when that fails.
std::unique_ptr<dpcrt_context> makeCudaContext() {
  auto ctx = std::make_unique<dpcrt_context>();
  try {
    dpc::cuda::createState(ctx.get(), 0);
  } catch (const dpc::Error &) {
    return nullptr;
  }
  return ctx;
}

std::vector<float> randomVector(size_t n, unsigned seed, float lo = -1.0f,
                                float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v) {
    x = dist(gen);
    if (x == 0.0f)
      x = hi / 2;
  }
  return v;
}

std::vector<int64_t> randomIndices(size_t n, unsigned seed, int64_t limit) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int64_t> dist(0, limit - 1);
  std::vector<int64_t> v(n);
  for (int64_t &x : v)
    x = dist(gen);
  return v;
}

/// A device copy of a host vector (or n uninitialized elements), freed
/// with the object.
template <typename T> class DeviceBuffer {
public:
  explicit DeviceBuffer(const std::vector<T> &host) : n(host.size()) {
    EXPECT_EQ(cudaMalloc(&ptr, bytes()), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(ptr, host.data(), bytes(), cudaMemcpyHostToDevice),
              cudaSuccess);
    // cudaMemcpy from pageable memory may return before the data reaches
    // the device, on the legacy default stream, which the context's
    // non-blocking compute stream does not wait for.
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  }
  explicit DeviceBuffer(size_t n) : n(n) {
    EXPECT_EQ(cudaMalloc(&ptr, bytes()), cudaSuccess);
    // NaN bytes, so an element a kernel forgets to write shows.
    EXPECT_EQ(cudaMemset(ptr, 0xff, bytes()), cudaSuccess);
    // cudaMemset is asynchronous (legacy default stream): without this wait
    // it could land after a kernel on the non-blocking compute stream has
    // written the buffer.
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  T *get() const { return ptr; }
  /// The contents, after everything queued on ctx's compute stream.
  std::vector<T> read(dpcrt_context *ctx) const {
    EXPECT_EQ(cudaStreamSynchronize(dpc::cuda::computeStream(ctx)),
              cudaSuccess);
    std::vector<T> host(n);
    EXPECT_EQ(cudaMemcpy(host.data(), ptr, bytes(), cudaMemcpyDeviceToHost),
              cudaSuccess);
    return host;
  }

private:
  size_t bytes() const { return std::max<size_t>(n, 1) * sizeof(T); }
  T *ptr = nullptr;
  size_t n;
};

/// max|got - want| <= tol * max|want| over the elements, NaNs matching.
void expectClose(const std::vector<float> &got, const std::vector<float> &want,
                 double tol, const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0.0;
  for (float w : want)
    if (std::isfinite(w))
      scale = std::max(scale, std::fabs(double(w)));
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i]) || std::isinf(want[i])) {
      if (std::isnan(want[i]))
        ASSERT_TRUE(std::isnan(got[i])) << what << " at " << i;
      else
        ASSERT_EQ(got[i], want[i]) << what << " at " << i;
      continue;
    }
    ASSERT_LE(std::fabs(double(got[i]) - double(want[i])), tol * scale)
        << what << " at " << i << ": gpu " << got[i] << ", cpu " << want[i];
  }
}

class CudaNnKernelsTest : public ::testing::Test {
protected:
  /// Called by each test after its GPU check.
  void start() {
    gpu = makeCudaContext();
    ASSERT_TRUE(gpu) << "could not create a CUDA context";
  }
  void TearDown() override {
    EXPECT_EQ(cpu.error, "");
    if (gpu) {
      EXPECT_EQ(cudaStreamSynchronize(dpc::cuda::computeStream(gpu.get())),
                cudaSuccess);
      EXPECT_EQ(gpu->error, "");
    }
  }

  dpcrt_context cpu;
  std::unique_ptr<dpcrt_context> gpu;
};

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

struct ConvCase {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, groups;

  int64_t oh() const { return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }
  int64_t ow() const { return (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1; }
  std::vector<int64_t> dims() const {
    return {n, c, h, w, o, kh, kw, oh(), ow(), sh, sw, ph, pw, dh, dw, groups};
  }
  std::string name() const {
    return "conv " + std::to_string(c) + "->" + std::to_string(o) + " k" +
           std::to_string(kh) + "x" + std::to_string(kw) + " s" +
           std::to_string(sh) + "x" + std::to_string(sw) + " p" +
           std::to_string(ph) + "x" + std::to_string(pw) + " d" +
           std::to_string(dh) + "x" + std::to_string(dw) + " g" +
           std::to_string(groups);
  }
};

TEST_F(CudaNnKernelsTest, Conv2dForwardAndGradients) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  const ConvCase cases[] = {
      {2, 3, 9, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1},
      {2, 4, 11, 10, 6, 3, 2, 2, 3, 1, 0, 1, 1, 2}, // groups, uneven
      {1, 6, 12, 12, 6, 3, 3, 1, 1, 2, 2, 2, 2, 6}, // depthwise, dilated
      {3, 8, 7, 7, 16, 1, 1, 1, 1, 0, 0, 1, 1, 1},  // pointwise
      {2, 3, 15, 13, 5, 5, 4, 2, 2, 2, 1, 1, 2, 1}, // anisotropic
      {2, 64, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1}, // K = 576
      {4, 3, 32, 32, 8, 7, 7, 2, 2, 3, 3, 1, 1, 1}, // ResNet stem
  };
  unsigned seed = 100;
  for (const ConvCase &cc : cases) {
    SCOPED_TRACE(cc.name());
    std::vector<int64_t> dims = cc.dims();
    size_t inN = cc.n * cc.c * cc.h * cc.w;
    size_t outN = cc.n * cc.o * cc.oh() * cc.ow();
    size_t wN = cc.o * (cc.c / cc.groups) * cc.kh * cc.kw;
    auto in = randomVector(inN, ++seed), weight = randomVector(wN, ++seed);
    auto bias = randomVector(cc.o, ++seed), dy = randomVector(outN, ++seed);

    std::vector<float> out(outN), dx(inN), dw(wN);
    dpcrt_conv2d_f32(&cpu, out.data(), in.data(), weight.data(), bias.data(),
                     dims.data());
    dpcrt_conv2d_input_grad_f32(&cpu, dx.data(), dy.data(), weight.data(),
                                dims.data());
    dpcrt_conv2d_weight_grad_f32(&cpu, dw.data(), dy.data(), in.data(),
                                 dims.data());

    DeviceBuffer<float> dIn(in), dWeight(weight), dBias(bias), dDy(dy);
    DeviceBuffer<float> dOut(outN), dOutNoBias(outN), dDx(inN), dDw(wN);
    dpc::cuda::conv2d_f32(gpu.get(), dOut.get(), dIn.get(), dWeight.get(),
                          dBias.get(), dims.data());
    dpc::cuda::conv2d_f32(gpu.get(), dOutNoBias.get(), dIn.get(), dWeight.get(),
                          nullptr, dims.data());
    dpc::cuda::conv2d_input_grad_f32(gpu.get(), dDx.get(), dDy.get(),
                                     dWeight.get(), dims.data());
    dpc::cuda::conv2d_weight_grad_f32(gpu.get(), dDw.get(), dDy.get(),
                                      dIn.get(), dims.data());
    expectClose(dOut.read(gpu.get()), out, kConv, "conv2d");
    expectClose(dDx.read(gpu.get()), dx, kConv, "conv2d_input_grad");
    expectClose(dDw.read(gpu.get()), dw, kConv, "conv2d_weight_grad");

    std::vector<float> outNoBias(outN);
    dpcrt_conv2d_f32(&cpu, outNoBias.data(), in.data(), weight.data(), nullptr,
                     dims.data());
    expectClose(dOutNoBias.read(gpu.get()), outNoBias, kConv,
                "conv2d without bias");
  }
}

TEST_F(CudaNnKernelsTest, Conv2dRejectsInvalidGeometry) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  ConvCase cc{1, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2}; // 3 % 2 != 0
  std::vector<int64_t> dims = cc.dims();
  dpc::cuda::conv2d_f32(gpu.get(), nullptr, nullptr, nullptr, nullptr,
                        dims.data());
  EXPECT_NE(gpu->error.find("conv2d: invalid geometry"), std::string::npos);
  gpu->error.clear();
}

//===----------------------------------------------------------------------===//
// batch_norm
//===----------------------------------------------------------------------===//

TEST_F(CudaNnKernelsTest, BatchNormForwardAndBackward) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  struct Shape {
    int64_t n, c, inner;
  };
  // inner below, at and above the 8 float lanes (with tails), more samples
  // than the backward kernel sums at once (32), a count of 2.
  const Shape shapes[] = {{4, 3, 25},  {2, 5, 1}, {3, 2, 37}, {5, 4, 6},
                          {40, 3, 17}, {2, 2, 8}, {8, 16, 49}};
  unsigned seed = 200;
  for (const Shape &s : shapes) {
    SCOPED_TRACE("batch_norm n" + std::to_string(s.n) + " c" +
                 std::to_string(s.c) + " inner" + std::to_string(s.inner));
    size_t total = s.n * s.c * s.inner;
    auto in = randomVector(total, ++seed, -2.0f, 3.0f);
    auto weight = randomVector(s.c, ++seed, 0.5f, 1.5f);
    auto bias = randomVector(s.c, ++seed);
    auto runMean = randomVector(s.c, ++seed);
    auto runVar = randomVector(s.c, ++seed, 0.5f, 2.0f);
    auto dy = randomVector(total, ++seed);
    const double momentum = 0.1, eps = 1e-5;

    DeviceBuffer<float> dIn(in), dWeight(weight), dBias(bias),
        dRunMean(runMean), dRunVar(runVar), dDy(dy);
    DeviceBuffer<float> dOut(total), dMean(s.c), dInvstd(s.c);
    std::vector<float> out(total), mean(s.c), invstd(s.c);
    dpcrt_batch_norm_f32(&cpu, out.data(), mean.data(), invstd.data(),
                         runMean.data(), runVar.data(), in.data(),
                         weight.data(), bias.data(), s.n, s.c, s.inner,
                         momentum, eps);
    dpc::cuda::batch_norm_f32(gpu.get(), dOut.get(), dMean.get(), dInvstd.get(),
                              dRunMean.get(), dRunVar.get(), dIn.get(),
                              dWeight.get(), dBias.get(), s.n, s.c, s.inner,
                              momentum, eps);
    expectClose(dOut.read(gpu.get()), out, kRounding, "out");
    expectClose(dMean.read(gpu.get()), mean, kRounding, "save_mean");
    expectClose(dInvstd.read(gpu.get()), invstd, kRounding, "save_invstd");
    expectClose(dRunMean.read(gpu.get()), runMean, kRounding, "running_mean");
    expectClose(dRunVar.read(gpu.get()), runVar, kRounding, "running_var");

    // The backward from the CPU's saved statistics, so that both sides see
    // the same inputs: its sums are the CPU's, bit for bit.
    DeviceBuffer<float> cMean(mean), cInvstd(invstd);
    DeviceBuffer<float> dDx(total), dDw(s.c), dDb(s.c);
    std::vector<float> dx(total), dw(s.c), db(s.c);
    dpcrt_batch_norm_grad_f32(&cpu, dx.data(), dw.data(), db.data(), dy.data(),
                              in.data(), weight.data(), mean.data(),
                              invstd.data(), s.n, s.c, s.inner);
    dpc::cuda::batch_norm_grad_f32(
        gpu.get(), dDx.get(), dDw.get(), dDb.get(), dDy.get(), dIn.get(),
        dWeight.get(), cMean.get(), cInvstd.get(), s.n, s.c, s.inner);
    expectClose(dDx.read(gpu.get()), dx, kBitwise, "dx");
    expectClose(dDw.read(gpu.get()), dw, kBitwise, "dweight");
    expectClose(dDb.read(gpu.get()), db, kBitwise, "dbias");
  }
}

TEST_F(CudaNnKernelsTest, BatchNormRejectsASingleValuePerChannel) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  dpc::cuda::batch_norm_f32(gpu.get(), nullptr, nullptr, nullptr, nullptr,
                            nullptr, nullptr, nullptr, nullptr, 1, 3, 1, 0.1,
                            1e-5);
  EXPECT_NE(gpu->error.find("batch_norm: expected more than 1 value"),
            std::string::npos);
  gpu->error.clear();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct PoolCase {
  int64_t planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw;
  bool ceil; // output sizes as with ceil_mode=True

  int64_t out(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) const {
    int64_t span = in + 2 * p - d * (k - 1) - 1;
    int64_t o = (ceil ? (span + s - 1) / s : span / s) + 1;
    // PyTorch: the last window must start inside the input or left padding.
    if (ceil && (o - 1) * s >= in + p)
      --o;
    return o;
  }
  int64_t oh() const { return out(h, kh, sh, ph, dh); }
  int64_t ow() const { return out(w, kw, sw, pw, dw); }
  std::vector<int64_t> dims() const {
    return {planes, h, w, oh(), ow(), kh, kw, sh, sw, ph, pw, dh, dw};
  }
  std::string name() const {
    return "pool " + std::to_string(h) + "x" + std::to_string(w) + " k" +
           std::to_string(kh) + "x" + std::to_string(kw) + " s" +
           std::to_string(sh) + "x" + std::to_string(sw) + " p" +
           std::to_string(ph) + "x" + std::to_string(pw) + " d" +
           std::to_string(dh) + "x" + std::to_string(dw) +
           (ceil ? " ceil" : "");
  }
};

const PoolCase kMaxPoolCases[] = {
    {6, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, false},
    {4, 13, 11, 3, 3, 2, 2, 1, 1, 1, 1, false}, // ResNet's, uneven
    {3, 9, 10, 3, 2, 1, 2, 1, 1, 1, 1, false},  // overlapping windows
    {2, 12, 11, 3, 3, 2, 1, 1, 0, 2, 2, false}, // dilated
    {5, 7, 9, 2, 3, 2, 2, 0, 1, 1, 1, true},    // partial last windows
    {2, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, true},
};

TEST_F(CudaNnKernelsTest, MaxPoolForwardAndBackward) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  unsigned seed = 300;
  for (bool ties : {false, true})
    for (const PoolCase &pc : kMaxPoolCases) {
      SCOPED_TRACE(pc.name() + (ties ? " ties" : ""));
      std::vector<int64_t> dims = pc.dims();
      size_t inN = pc.planes * pc.h * pc.w,
             outN = pc.planes * pc.oh() * pc.ow();
      auto in = randomVector(inN, ++seed);
      if (ties) // few distinct values: the first maximum must win
        for (float &x : in)
          x = std::round(x * 2.0f) / 2.0f + 0.25f;
      auto dy = randomVector(outN, ++seed);
      std::vector<float> out(outN), dx(inN);
      dpcrt_max_pool2d_f32(&cpu, out.data(), in.data(), dims.data());
      dpcrt_max_pool2d_grad_f32(&cpu, dx.data(), dy.data(), in.data(),
                                dims.data());
      DeviceBuffer<float> dIn(in), dDy(dy), dOut(outN), dDx(inN);
      dpc::cuda::max_pool2d_f32(gpu.get(), dOut.get(), dIn.get(), dims.data());
      dpc::cuda::max_pool2d_grad_f32(gpu.get(), dDx.get(), dDy.get(), dIn.get(),
                                     dims.data());
      expectClose(dOut.read(gpu.get()), out, kBitwise, "max_pool2d");
      expectClose(dDx.read(gpu.get()), dx, kBitwise, "max_pool2d_grad");
    }
}

TEST_F(CudaNnKernelsTest, MaxPoolPropagatesNan) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  PoolCase pc{1, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1, false};
  std::vector<int64_t> dims = pc.dims();
  auto in = randomVector(16, 350);
  in[5] = NAN;
  std::vector<float> out(4), dx(16), dy = randomVector(4, 351);
  dpcrt_max_pool2d_f32(&cpu, out.data(), in.data(), dims.data());
  dpcrt_max_pool2d_grad_f32(&cpu, dx.data(), dy.data(), in.data(), dims.data());
  DeviceBuffer<float> dIn(in), dDy(dy), dOut(4), dDx(16);
  dpc::cuda::max_pool2d_f32(gpu.get(), dOut.get(), dIn.get(), dims.data());
  dpc::cuda::max_pool2d_grad_f32(gpu.get(), dDx.get(), dDy.get(), dIn.get(),
                                 dims.data());
  expectClose(dOut.read(gpu.get()), out, kBitwise, "max_pool2d");
  expectClose(dDx.read(gpu.get()), dx, kBitwise, "max_pool2d_grad");
}

TEST_F(CudaNnKernelsTest, AvgPoolForwardAndBackward) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  const PoolCase cases[] = {
      {6, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, false},
      {4, 13, 11, 3, 3, 2, 2, 1, 1, 1, 1, false},
      {3, 9, 10, 3, 2, 1, 2, 1, 1, 1, 1, false},
      {5, 7, 9, 2, 3, 2, 2, 0, 1, 1, 1, true},
      {2, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, true},
  };
  unsigned seed = 400;
  for (const PoolCase &pc : cases)
    for (int32_t includePad : {0, 1})
      for (int64_t divisor : {int64_t{0}, int64_t{3}}) {
        SCOPED_TRACE(pc.name() + " count_include_pad " +
                     std::to_string(includePad) + " divisor " +
                     std::to_string(divisor));
        std::vector<int64_t> dims = pc.dims();
        size_t inN = pc.planes * pc.h * pc.w,
               outN = pc.planes * pc.oh() * pc.ow();
        auto in = randomVector(inN, ++seed), dy = randomVector(outN, ++seed);
        std::vector<float> out(outN), dx(inN);
        dpcrt_avg_pool2d_f32(&cpu, out.data(), in.data(), dims.data(),
                             includePad, divisor);
        dpcrt_avg_pool2d_grad_f32(&cpu, dx.data(), dy.data(), dims.data(),
                                  includePad, divisor);
        DeviceBuffer<float> dIn(in), dDy(dy), dOut(outN), dDx(inN);
        dpc::cuda::avg_pool2d_f32(gpu.get(), dOut.get(), dIn.get(), dims.data(),
                                  includePad, divisor);
        dpc::cuda::avg_pool2d_grad_f32(gpu.get(), dDx.get(), dDy.get(),
                                       dims.data(), includePad, divisor);
        expectClose(dOut.read(gpu.get()), out, kBitwise, "avg_pool2d");
        expectClose(dDx.read(gpu.get()), dx, kBitwise, "avg_pool2d_grad");
      }
}

TEST_F(CudaNnKernelsTest, AdaptiveAvgPoolForwardAndBackward) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  struct Case {
    int64_t planes, h, w, oh, ow;
  };
  // Uneven and overlapping windows, the 1x1 mean (small and large planes),
  // outputs larger than the input, an identity.
  const Case cases[] = {{6, 7, 9, 3, 4},  {8, 10, 10, 1, 1}, {3, 56, 56, 1, 1},
                        {4, 5, 6, 7, 8},  {5, 8, 8, 2, 2},   {2, 6, 6, 6, 6},
                        {3, 13, 11, 5, 1}};
  unsigned seed = 500;
  for (const Case &c : cases) {
    SCOPED_TRACE("adaptive " + std::to_string(c.h) + "x" + std::to_string(c.w) +
                 " -> " + std::to_string(c.oh) + "x" + std::to_string(c.ow));
    size_t inN = c.planes * c.h * c.w, outN = c.planes * c.oh * c.ow;
    auto in = randomVector(inN, ++seed), dy = randomVector(outN, ++seed);
    std::vector<float> out(outN), dx(inN);
    dpcrt_adaptive_avg_pool2d_f32(&cpu, out.data(), in.data(), c.planes, c.h,
                                  c.w, c.oh, c.ow);
    dpcrt_adaptive_avg_pool2d_grad_f32(&cpu, dx.data(), dy.data(), c.planes,
                                       c.h, c.w, c.oh, c.ow);
    DeviceBuffer<float> dIn(in), dDy(dy), dOut(outN), dDx(inN);
    dpc::cuda::adaptive_avg_pool2d_f32(gpu.get(), dOut.get(), dIn.get(),
                                       c.planes, c.h, c.w, c.oh, c.ow);
    dpc::cuda::adaptive_avg_pool2d_grad_f32(gpu.get(), dDx.get(), dDy.get(),
                                            c.planes, c.h, c.w, c.oh, c.ow);
    // The 1x1 mean's double sum is a tree on the GPU.
    double tol = c.oh == 1 && c.ow == 1 ? kRounding : kBitwise;
    expectClose(dOut.read(gpu.get()), out, tol, "adaptive_avg_pool2d");
    expectClose(dDx.read(gpu.get()), dx, kBitwise, "adaptive_avg_pool2d_grad");
  }
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

TEST_F(CudaNnKernelsTest, EmbeddingAndGradient) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  struct Case {
    int64_t n, numWeights, dim, paddingIdx;
  };
  const Case cases[] = {
      {37, 11, 13, -1}, {37, 11, 13, 3}, {200, 5, 1, 0}, {64, 1000, 96, 7}};
  unsigned seed = 600;
  for (const Case &c : cases) {
    SCOPED_TRACE("embedding n" + std::to_string(c.n) + " v" +
                 std::to_string(c.numWeights) + " d" + std::to_string(c.dim) +
                 " padding " + std::to_string(c.paddingIdx));
    auto weight = randomVector(c.numWeights * c.dim, ++seed);
    auto indices = randomIndices(c.n, ++seed, c.numWeights);
    if (c.paddingIdx >= 0)
      indices[1] = indices[4] = c.paddingIdx;
    auto grad = randomVector(c.n * c.dim, ++seed);
    std::vector<float> out(c.n * c.dim), dw(c.numWeights * c.dim);
    dpcrt_embedding_f32(&cpu, out.data(), weight.data(), indices.data(), c.n,
                        c.numWeights, c.dim);
    dpcrt_embedding_grad_f32(&cpu, dw.data(), grad.data(), indices.data(), c.n,
                             c.numWeights, c.dim, c.paddingIdx);
    DeviceBuffer<float> dWeight(weight), dGrad(grad), dOut(out.size()),
        dDw(dw.size());
    DeviceBuffer<int64_t> dIndices(indices);
    dpc::cuda::embedding_f32(gpu.get(), dOut.get(), dWeight.get(),
                             dIndices.get(), c.n, c.numWeights, c.dim);
    dpc::cuda::embedding_grad_f32(gpu.get(), dDw.get(), dGrad.get(),
                                  dIndices.get(), c.n, c.numWeights, c.dim,
                                  c.paddingIdx);
    expectClose(dOut.read(gpu.get()), out, kBitwise, "embedding");
    expectClose(dDw.read(gpu.get()), dw, kBitwise, "embedding_grad");
  }
}

TEST_F(CudaNnKernelsTest, EmbeddingRejectsIndicesOutOfRange) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  std::vector<float> weight = randomVector(6, 650);
  std::vector<int64_t> indices = {0, 3, -1};
  DeviceBuffer<float> dWeight(weight), dOut(6), dDw(6), dGrad(weight);
  DeviceBuffer<int64_t> dIndices(indices);
  // The first offending position is reported (through the device error
  // record, at the synchronization), the CPU kernel's message; its rows of
  // the output are NaN, the others looked up.
  dpc::cuda::embedding_f32(gpu.get(), dOut.get(), dWeight.get(), dIndices.get(),
                           3, 3, 2);
  dpc::cuda::synchronize(gpu.get());
  EXPECT_EQ(gpu->error,
            "embedding: index 3 at position 1 is out of range [0, 3)");
  std::vector<float> out = dOut.read(gpu.get());
  EXPECT_EQ(out[0], weight[0]);
  EXPECT_EQ(out[1], weight[1]);
  for (int i = 2; i < 6; ++i)
    EXPECT_TRUE(std::isnan(out[i])) << i;
  gpu->error.clear();
  dpc::cuda::embedding_grad_f32(gpu.get(), dDw.get(), dGrad.get(),
                                dIndices.get(), 3, 3, 2, -1);
  dpc::cuda::synchronize(gpu.get());
  EXPECT_EQ(gpu->error,
            "embedding_grad: index 3 at position 1 is out of range [0, 3)");
  gpu->error.clear();
}

//===----------------------------------------------------------------------===//
// gather, scatter_add, int64 to float32
//===----------------------------------------------------------------------===//

TEST_F(CudaNnKernelsTest, GatherAndScatterAddMatchTheCpuBitwise) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  struct Case {
    int64_t outer, dim, indexDim, inner;
  };
  // scatter_add sums each line in the CPU's order on the GPU too: bitwise.
  const Case cases[] = {{3, 5, 7, 4},
                        {1, 6, 9, 3},
                        {4, 3, 8, 1},
                        {64, 10, 1, 1},
                        {2, 7, 300, 33}};
  unsigned seed = 660;
  for (const Case &c : cases) {
    SCOPED_TRACE("gather/scatter_add " + std::to_string(c.outer) + "x" +
                 std::to_string(c.dim) + "x" + std::to_string(c.inner) +
                 " index dim " + std::to_string(c.indexDim));
    auto input = randomVector(c.outer * c.dim * c.inner, ++seed);
    auto index = randomIndices(c.outer * c.indexDim * c.inner, ++seed, c.dim);
    auto src = randomVector(index.size(), ++seed);
    std::vector<float> picked(index.size()), summed(input.size());
    dpcrt_gather_f32(&cpu, picked.data(), input.data(), index.data(), c.outer,
                     c.dim, c.indexDim, c.inner);
    dpcrt_scatter_add_f32(&cpu, summed.data(), input.data(), index.data(),
                          src.data(), c.outer, c.dim, c.indexDim, c.inner);
    DeviceBuffer<float> dInput(input), dSrc(src), dPicked(picked.size()),
        dSummed(summed.size());
    DeviceBuffer<int64_t> dIndex(index);
    dpc::cuda::gather_f32(gpu.get(), dPicked.get(), dInput.get(), dIndex.get(),
                          c.outer, c.dim, c.indexDim, c.inner);
    dpc::cuda::scatter_add_f32(gpu.get(), dSummed.get(), dInput.get(),
                               dIndex.get(), dSrc.get(), c.outer, c.dim,
                               c.indexDim, c.inner);
    expectClose(dPicked.read(gpu.get()), picked, kBitwise, "gather");
    expectClose(dSummed.read(gpu.get()), summed, kBitwise, "scatter_add");
    // In place.
    dpc::cuda::scatter_add_f32(gpu.get(), dInput.get(), dInput.get(),
                               dIndex.get(), dSrc.get(), c.outer, c.dim,
                               c.indexDim, c.inner);
    expectClose(dInput.read(gpu.get()), summed, kBitwise,
                "scatter_add in place");
  }
  dpc::cuda::synchronize(gpu.get());
  EXPECT_EQ(gpu->error, "");
}

TEST_F(CudaNnKernelsTest, GatherAndScatterAddRejectIndicesOutOfRange) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  std::vector<float> input = randomVector(6, 670), src(4, 1.0f);
  std::vector<int64_t> index = {0, 2, 3, 1};
  DeviceBuffer<float> dInput(input), dSrc(src), dOut(4), dSum(6);
  DeviceBuffer<int64_t> dIndex(index);
  dpc::cuda::gather_f32(gpu.get(), dOut.get(), dInput.get(), dIndex.get(), 2, 3,
                        2, 1);
  dpc::cuda::synchronize(gpu.get());
  EXPECT_EQ(gpu->error, "gather: index 3 at position 2 is out of range [0, 3)");
  EXPECT_TRUE(std::isnan(dOut.read(gpu.get())[2]));
  gpu->error.clear();
  dpc::cuda::scatter_add_f32(gpu.get(), dSum.get(), dInput.get(), dIndex.get(),
                             dSrc.get(), 2, 3, 2, 1);
  dpc::cuda::synchronize(gpu.get());
  EXPECT_EQ(gpu->error,
            "scatter_add: index 3 at position 2 is out of range [0, 3)");
  gpu->error.clear();
}

TEST_F(CudaNnKernelsTest, ConvertI64MatchesTheCpu) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  // Around 2^24 and 2^53 (ties to even), the extremes, random magnitudes.
  std::vector<int64_t> in = {
      0,         -1,       (1 << 24) + 1, (1 << 24) + 3, (int64_t(1) << 53) + 1,
      INT64_MIN, INT64_MAX};
  std::mt19937_64 gen(680);
  for (int i = 0; i < 1000; ++i)
    in.push_back(static_cast<int64_t>(gen()) >> (gen() % 63));
  std::vector<float> out(in.size());
  dpcrt_convert_i64_f32(&cpu, out.data(), in.data(), in.size());
  DeviceBuffer<int64_t> dIn(in);
  DeviceBuffer<float> dOut(in.size());
  dpc::cuda::convert_i64_f32(gpu.get(), dOut.get(), dIn.get(), in.size());
  expectClose(dOut.read(gpu.get()), out, kBitwise, "convert_i64_f32");
}

//===----------------------------------------------------------------------===//
// layer_norm
//===----------------------------------------------------------------------===//

TEST_F(CudaNnKernelsTest, LayerNormAndGradient) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  struct Case {
    int64_t rows, cols;
    bool affine;
  };
  const Case cases[] = {{7, 33, true},
                        {3, 1000, true},
                        {5, 1, true},
                        {6, 768, false},
                        {300, 64, true}};
  unsigned seed = 700;
  const float eps = 1e-5f;
  for (const Case &c : cases) {
    SCOPED_TRACE("layer_norm " + std::to_string(c.rows) + "x" +
                 std::to_string(c.cols) + (c.affine ? " affine" : ""));
    size_t total = c.rows * c.cols;
    auto x = randomVector(total, ++seed, -3.0f, 2.0f);
    auto gamma = randomVector(c.cols, ++seed, 0.5f, 1.5f);
    auto beta = randomVector(c.cols, ++seed);
    auto dy = randomVector(total, ++seed);
    const float *g = c.affine ? gamma.data() : nullptr;
    const float *b = c.affine ? beta.data() : nullptr;
    std::vector<float> y(total), dx(total), dg(c.cols), db(c.cols);
    dpcrt_layer_norm_f32(&cpu, y.data(), x.data(), g, b, c.rows, c.cols, eps);
    dpcrt_layer_norm_grad_f32(&cpu, dx.data(), dg.data(), db.data(), dy.data(),
                              x.data(), g, c.rows, c.cols, eps);
    DeviceBuffer<float> dX(x), dGamma(gamma), dBeta(beta), dDy(dy), dY(total),
        dDx(total), dDg(c.cols), dDb(c.cols), dDx2(total);
    float *gg = c.affine ? dGamma.get() : nullptr;
    float *gb = c.affine ? dBeta.get() : nullptr;
    dpc::cuda::layer_norm_f32(gpu.get(), dY.get(), dX.get(), gg, gb, c.rows,
                              c.cols, eps);
    dpc::cuda::layer_norm_grad_f32(gpu.get(), dDx.get(), dDg.get(), dDb.get(),
                                   dDy.get(), dX.get(), gg, c.rows, c.cols,
                                   eps);
    // dgamma and dbeta may be null.
    dpc::cuda::layer_norm_grad_f32(gpu.get(), dDx2.get(), nullptr, nullptr,
                                   dDy.get(), dX.get(), gg, c.rows, c.cols,
                                   eps);
    expectClose(dY.read(gpu.get()), y, kRounding, "y");
    expectClose(dDx.read(gpu.get()), dx, kRounding, "dx");
    expectClose(dDx2.read(gpu.get()), dx, kRounding, "dx without dgamma");
    expectClose(dDg.read(gpu.get()), dg, kRounding, "dgamma");
    expectClose(dDb.read(gpu.get()), db, kBitwise, "dbeta");
  }
}

//===----------------------------------------------------------------------===//
// group_norm
//===----------------------------------------------------------------------===//

TEST_F(CudaNnKernelsTest, GroupNormAndGradient) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  struct Case {
    int64_t n, c, inner, groups;
  };
  const Case cases[] = {
      {2, 8, 9, 4}, {3, 6, 25, 6}, {2, 16, 300, 1}, {4, 12, 1, 3}};
  unsigned seed = 750;
  const float eps = 1e-5f;
  for (const Case &k : cases) {
    SCOPED_TRACE("group_norm [" + std::to_string(k.n) + ", " +
                 std::to_string(k.c) + ", " + std::to_string(k.inner) + "] / " +
                 std::to_string(k.groups));
    size_t total = k.n * k.c * k.inner;
    auto x = randomVector(total, ++seed, -3.0f, 2.0f);
    auto w = randomVector(k.c, ++seed, 0.5f, 1.5f);
    auto b = randomVector(k.c, ++seed);
    auto dy = randomVector(total, ++seed);
    std::vector<float> y(total), dx(total), dw(k.c), db(k.c);
    dpcrt_group_norm_f32(&cpu, y.data(), x.data(), w.data(), b.data(), k.n, k.c,
                         k.inner, k.groups, eps);
    dpcrt_group_norm_grad_f32(&cpu, dx.data(), dw.data(), db.data(), dy.data(),
                              x.data(), w.data(), k.n, k.c, k.inner, k.groups,
                              eps);
    DeviceBuffer<float> dX(x), dW(w), dB(b), dDy(dy), dY(total), dDx(total),
        dDw(k.c), dDb(k.c);
    dpc::cuda::group_norm_f32(gpu.get(), dY.get(), dX.get(), dW.get(), dB.get(),
                              k.n, k.c, k.inner, k.groups, eps);
    dpc::cuda::group_norm_grad_f32(gpu.get(), dDx.get(), dDw.get(), dDb.get(),
                                   dDy.get(), dX.get(), dW.get(), k.n, k.c,
                                   k.inner, k.groups, eps);
    expectClose(dY.read(gpu.get()), y, kRounding, "y");
    expectClose(dDx.read(gpu.get()), dx, kRounding, "dx");
    expectClose(dDw.read(gpu.get()), dw, kRounding, "dweight");
    expectClose(dDb.read(gpu.get()), db, kRounding, "dbias");
  }
}

//===----------------------------------------------------------------------===//
// Reductions: amax / amin, max_dim, norm2, logsumexp, cumsum
//===----------------------------------------------------------------------===//

TEST_F(CudaNnKernelsTest, ReductionsAgainstCpu) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  // [3, 70, 5] reduced over dim 1 and over dims {0, 2}.
  const int64_t a = 3, b = 70, c = 5, total = a * b * c;
  auto x = randomVector(total, 781, -20.0f, 20.0f);
  x[7] = NAN;
  const int64_t overMiddle[6] = {a, b, c, c, 0, 1};
  const int64_t overOuter[6] = {a, b, c, 0, 1, 0};
  DeviceBuffer<float> dX(x);
  for (int min = 0; min < 2; ++min) {
    std::vector<float> want(a * c), want2(b);
    dpcrt_reduce_max_f32(&cpu, want.data(), x.data(), 3, overMiddle, a * c,
                         min);
    dpcrt_reduce_max_f32(&cpu, want2.data(), x.data(), 3, overOuter, b, min);
    DeviceBuffer<float> got(a * c), got2(b);
    dpc::cuda::reduce_max_f32(gpu.get(), got.get(), dX.get(), 3, overMiddle,
                              a * c, min);
    dpc::cuda::reduce_max_f32(gpu.get(), got2.get(), dX.get(), 3, overOuter, b,
                              min);
    expectClose(got.read(gpu.get()), want, kBitwise, "reduce_max");
    expectClose(got2.read(gpu.get()), want2, kBitwise, "reduce_max outer");

    std::vector<float> values(a * c);
    std::vector<int64_t> indices(a * c);
    dpcrt_max_dim_f32(&cpu, values.data(), indices.data(), x.data(), a, b, c,
                      min);
    DeviceBuffer<float> dValues(a * c);
    DeviceBuffer<int64_t> dIndices(a * c);
    dpc::cuda::max_dim_f32(gpu.get(), dValues.get(), dIndices.get(), dX.get(),
                           a, b, c, min);
    expectClose(dValues.read(gpu.get()), values, kBitwise, "max_dim values");
    EXPECT_EQ(dIndices.read(gpu.get()), indices);
    auto dy = randomVector(a * c, 790 + min);
    std::vector<float> dx(total);
    dpcrt_max_dim_grad_f32(&cpu, dx.data(), dy.data(), indices.data(), a, b, c);
    DeviceBuffer<float> dDy(dy), dDx(total);
    dpc::cuda::max_dim_grad_f32(gpu.get(), dDx.get(), dDy.get(), dIndices.get(),
                                a, b, c);
    expectClose(dDx.read(gpu.get()), dx, kBitwise, "max_dim_grad");
  }
  x[7] = 1.5f;
  DeviceBuffer<float> dFinite(x);
  std::vector<float> norms(a * c), lse(a * c), sums(total), reversed(total);
  dpcrt_reduce_norm2_f32(&cpu, norms.data(), x.data(), 3, overMiddle, a * c);
  dpcrt_reduce_logsumexp_f32(&cpu, lse.data(), x.data(), 3, overMiddle, a * c);
  dpcrt_cumsum_f32(&cpu, sums.data(), x.data(), a, b, c, 0);
  dpcrt_cumsum_f32(&cpu, reversed.data(), x.data(), a, b, c, 1);
  DeviceBuffer<float> dNorms(a * c), dLse(a * c), dSums(total),
      dReversed(total);
  dpc::cuda::reduce_norm2_f32(gpu.get(), dNorms.get(), dFinite.get(), 3,
                              overMiddle, a * c);
  dpc::cuda::reduce_logsumexp_f32(gpu.get(), dLse.get(), dFinite.get(), 3,
                                  overMiddle, a * c);
  dpc::cuda::cumsum_f32(gpu.get(), dSums.get(), dFinite.get(), a, b, c, 0);
  dpc::cuda::cumsum_f32(gpu.get(), dReversed.get(), dFinite.get(), a, b, c, 1);
  expectClose(dNorms.read(gpu.get()), norms, kRounding, "norm2");
  expectClose(dLse.read(gpu.get()), lse, kRounding, "logsumexp");
  expectClose(dSums.read(gpu.get()), sums, kBitwise, "cumsum");
  expectClose(dReversed.read(gpu.get()), reversed, kBitwise, "cumsum reverse");
  EXPECT_EQ(gpu->error, "");
}

//===----------------------------------------------------------------------===//
// gelu
//===----------------------------------------------------------------------===//

TEST_F(CudaNnKernelsTest, GeluBothFormsAndGradients) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  const int64_t n = 4099;
  auto x = randomVector(n, 800, -8.0f, 8.0f), dy = randomVector(n, 801);
  DeviceBuffer<float> dX(x), dDy(dy), dOut(n), dDx(n);
  for (int32_t kind : {DPCRT_GELU_ERF, DPCRT_GELU_TANH}) {
    SCOPED_TRACE("gelu kind " + std::to_string(kind));
    std::vector<float> out(n), dx(n);
    dpcrt_gelu_f32(&cpu, kind, out.data(), x.data(), n);
    dpcrt_gelu_grad_f32(&cpu, kind, dx.data(), dy.data(), x.data(), n);
    dpc::cuda::gelu_f32(gpu.get(), kind, dOut.get(), dX.get(), n);
    dpc::cuda::gelu_grad_f32(gpu.get(), kind, dDx.get(), dDy.get(), dX.get(),
                             n);
    expectClose(dOut.read(gpu.get()), out, kRounding, "gelu");
    expectClose(dDx.read(gpu.get()), dx, kGeluGrad, "gelu_grad");
  }
}

//===----------------------------------------------------------------------===//
// softmax
//===----------------------------------------------------------------------===//

TEST_F(CudaNnKernelsTest, SoftmaxAndLogSoftmaxWithGradients) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  struct Case {
    int64_t outer, size, inner;
  };
  const Case cases[] = {{4, 10, 1},  {3, 7, 5},  {2, 1000, 1},
                        {1, 3, 300}, {16, 1, 1}, {8, 64, 1}};
  unsigned seed = 900;
  for (const Case &c : cases)
    for (int32_t log : {0, 1}) {
      SCOPED_TRACE("softmax " + std::to_string(c.outer) + "x" +
                   std::to_string(c.size) + "x" + std::to_string(c.inner) +
                   (log ? " log" : ""));
      size_t total = c.outer * c.size * c.inner;
      auto x = randomVector(total, ++seed, -6.0f, 6.0f);
      // Causal-mask style -inf entries, never a whole row.
      for (size_t i = 0; i < total; ++i)
        if (i % 7 == 3 && (i / c.inner) % c.size != 0)
          x[i] = -std::numeric_limits<float>::infinity();
      auto dy = randomVector(total, ++seed);
      std::vector<float> y(total), dx(total);
      dpcrt_softmax_f32(&cpu, y.data(), x.data(), c.outer, c.size, c.inner,
                        log);
      dpcrt_softmax_grad_f32(&cpu, dx.data(), dy.data(), y.data(), c.outer,
                             c.size, c.inner, log);
      DeviceBuffer<float> dX(x), dDy(dy), cY(y), dY(total), dDx(total);
      dpc::cuda::softmax_f32(gpu.get(), dY.get(), dX.get(), c.outer, c.size,
                             c.inner, log);
      // The backward from the CPU's forward output: both see one input.
      dpc::cuda::softmax_grad_f32(gpu.get(), dDx.get(), dDy.get(), cY.get(),
                                  c.outer, c.size, c.inner, log);
      expectClose(dY.read(gpu.get()), y, kRounding, "softmax");
      expectClose(dDx.read(gpu.get()), dx, kRounding, "softmax_grad");
    }
}

//===----------------------------------------------------------------------===//
// nll_loss
//===----------------------------------------------------------------------===//

TEST_F(CudaNnKernelsTest, NllLossAndGradient) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  for (int64_t n : {int64_t{9}, int64_t{1000}}) {
    SCOPED_TRACE("nll_loss n" + std::to_string(n));
    const int64_t c = 7;
    auto input = randomVector(n * c, 1000 + n, -5.0f, 0.0f);
    auto labels = randomIndices(n, 1001 + n, c);
    std::vector<float> dloss = {0.75f}, loss(1), dinput(n * c);
    dpcrt_nll_loss_f32(&cpu, loss.data(), input.data(), labels.data(), n, c);
    dpcrt_nll_loss_grad_f32(&cpu, dinput.data(), dloss.data(), labels.data(), n,
                            c);
    DeviceBuffer<float> dInput(input), dDloss(dloss), dLoss(1), dDin(n * c);
    DeviceBuffer<int64_t> dLabels(labels);
    dpc::cuda::nll_loss_f32(gpu.get(), dLoss.get(), dInput.get(), dLabels.get(),
                            n, c);
    dpc::cuda::nll_loss_grad_f32(gpu.get(), dDin.get(), dDloss.get(),
                                 dLabels.get(), n, c);
    expectClose(dLoss.read(gpu.get()), loss, kRounding, "nll_loss");
    expectClose(dDin.read(gpu.get()), dinput, kBitwise, "nll_loss_grad");
  }
}

TEST_F(CudaNnKernelsTest, NllLossRejectsLabelsOutOfRange) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  std::vector<float> input = randomVector(6, 1100);
  std::vector<int64_t> labels = {1, 2};
  DeviceBuffer<float> dInput(input), dLoss(1);
  DeviceBuffer<int64_t> dLabels(labels);
  dpc::cuda::nll_loss_f32(gpu.get(), dLoss.get(), dInput.get(), dLabels.get(),
                          2, 2);
  dpc::cuda::synchronize(gpu.get());
  EXPECT_EQ(gpu->error, "nll_loss: label 2 of sample 1 is out of range [0, 2)");
  EXPECT_TRUE(std::isnan(dLoss.read(gpu.get())[0]));
  gpu->error.clear();
}

//===----------------------------------------------------------------------===//
// dropout
//===----------------------------------------------------------------------===//

// Both backends draw the same Philox blocks: the same elements are dropped
// and the kept ones are scaled identically (bitwise).
TEST_F(CudaNnKernelsTest, DropoutMatchesTheCpuMask) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  const int64_t n = 100003; // not a multiple of four
  std::vector<float> x = randomVector(n, 1200);
  for (dpcrt_context *ctx : {&cpu, gpu.get()}) {
    ctx->seed = 0x123456789abcULL;
    ctx->step = 41;
    ctx->rank = 1;
  }
  std::vector<float> want(n);
  dpcrt_dropout_f32(&cpu, want.data(), x.data(), n, 0.3, 2, 1, 0);
  DeviceBuffer<float> dX(x), dY(n);
  dpc::cuda::dropout_f32(gpu.get(), dY.get(), dX.get(), n, 0.3, 2, 1, 0);
  expectClose(dY.read(gpu.get()), want, kBitwise, "dropout");
}

// The same Philox blocks give both backends the same Bernoulli tensor.
TEST_F(CudaNnKernelsTest, BernoulliMatchesTheCpuDraw) {
  if (dpc::cuda::deviceCount() == 0)
    GTEST_SKIP() << "skipped: no GPU";
  start();
  const int64_t n = 100003; // not a multiple of four
  for (dpcrt_context *ctx : {&cpu, gpu.get()}) {
    ctx->seed = 0xfedcba987654ULL;
    ctx->step = 13;
    ctx->rank = 1;
  }
  std::vector<float> want(n);
  dpcrt_bernoulli_f32(&cpu, want.data(), n, 0.8, 3, 1, 0);
  DeviceBuffer<float> dY(n);
  dpc::cuda::bernoulli_f32(gpu.get(), dY.get(), n, 0.8, 3, 1, 0);
  expectClose(dY.read(gpu.get()), want, kBitwise, "bernoulli");
}

} // namespace
