//===- cuda_core_kernels_test.cpp - CUDA core kernels against the CPU's ---===//
//
// Each test runs a dpcrt_* entry point twice on the same random non-zero
// inputs, once with a CPU context on host memory and once with a CUDA
// context on device memory (the dispatch picks the backend), and compares.
// Tolerances, relative to max(1, |cpu value|):
//   0 (bitwise)  data movement, IEEE arithmetic (+ - * / sqrt, explicit
//                fma), comparisons, the optimizers (both sides compile the
//                same formulas without contraction)
//   1e-6         reductions (double sums in another order, rounded to float)
//                and transcendental functions (expf/tanhf vs glibc: an ulp
//                or two)
//   1e-5         GEMMs (cuBLAS and OpenBLAS accumulate in other orders)
// Built only with the cuda backend; every test is skipped without a GPU.
//
//===----------------------------------------------------------------------===//

#include "core/backend.h"
#include "core/context.h"
#include "cuda/cuda_backend.h"
#include "test_util.h"

#include <cmath>
#include <random>

namespace {

/// Uniform in ±[0.1, 2]: no zeros (divisions, ReLU's kink) and a sign mix.
std::vector<float> randomVector(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> magnitude(0.1f, 2.0f);
  std::bernoulli_distribution negative(0.5);
  std::vector<float> v(n);
  for (float &x : v)
    x = negative(gen) ? -magnitude(gen) : magnitude(gen);
  return v;
}

/// gpu == cpu (relTol 0) or within relTol relative, element by element;
/// T float or double.
template <typename T>
void expectClose(const std::vector<T> &gpu, const std::vector<T> &cpu,
                 double relTol, const std::string &what = "") {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  for (size_t i = 0; i < gpu.size(); ++i) {
    if (std::isnan(cpu[i])) {
      EXPECT_TRUE(std::isnan(gpu[i])) << what << " at " << i;
      continue;
    }
    if (relTol == 0.0)
      EXPECT_EQ(gpu[i], cpu[i]) << what << " at " << i;
    else
      EXPECT_NEAR(gpu[i], cpu[i],
                  relTol * std::max(1.0, std::fabs(double(cpu[i]))))
          << what << " at " << i;
  }
}

class CudaCoreKernelsTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (dpc::cuda::deviceCount() == 0)
      GTEST_SKIP() << "skipped: no GPU";
    dpc::cuda::createState(&gpu, 0);
  }

  void TearDown() override {
    for (void *p : allocations)
      dpc::cuda::release(p);
  }

  /// A device copy of `host`.
  template <typename T> T *upload(const std::vector<T> &host) {
    void *p = dpc::cuda::allocate(&gpu, host.size() * sizeof(T), "test");
    allocations.push_back(p);
    dpc::cuda::copyToDevice(&gpu, p, host.data(), host.size() * sizeof(T));
    return static_cast<T *>(p);
  }
  /// Zeroed device memory of n elements.
  template <typename T> T *deviceZeros(size_t n) {
    return upload(std::vector<T>(n, T(0)));
  }
  /// The device values after the stream has run; no error may be recorded.
  template <typename T> std::vector<T> download(const T *device, size_t n) {
    dpc::cuda::synchronize(&gpu);
    EXPECT_EQ(gpu.error, "");
    std::vector<T> host(n);
    dpc::cuda::copyToHost(&gpu, host.data(), device, n * sizeof(T));
    return host;
  }

  dpcrt_context cpu, gpu;
  std::vector<void *> allocations;
};

//===----------------------------------------------------------------------===//
// Elementwise and data movement
//===----------------------------------------------------------------------===//

TEST_F(CudaCoreKernelsTest, FillCopyScaleDivide) {
  const size_t n = 1000;
  std::vector<float> in = randomVector(n, 1), out(n);
  float *dIn = upload(in), *dOut = deviceZeros<float>(n);

  dpcrt_fill_f32(&cpu, out.data(), n, 0.75f);
  dpcrt_fill_f32(&gpu, dOut, n, 0.75f);
  expectClose(download(dOut, n), out, 0, "fill");

  dpcrt_copy(&cpu, out.data(), in.data(), n * 4);
  dpcrt_copy(&gpu, dOut, dIn, n * 4);
  expectClose(download(dOut, n), out, 0, "copy");

  // From host memory (nn.constant copies from a global of model.so).
  static const float constant[4] = {1.5f, -2.0f, 0.25f, 8.0f};
  dpcrt_copy(&cpu, out.data(), constant, sizeof(constant));
  dpcrt_copy(&gpu, dOut, constant, sizeof(constant));
  expectClose(download(dOut, n), out, 0, "copy from host memory");

  // Overlapping ranges, as memmove.
  dpcrt_copy(&cpu, out.data() + 3, out.data(), 500 * 4);
  dpcrt_copy(&gpu, dOut + 3, dOut, 500 * 4);
  expectClose(download(dOut, n), out, 0, "overlapping copy");

  dpcrt_scale_f32(&cpu, out.data(), in.data(), n, -1.7f);
  dpcrt_scale_f32(&gpu, dOut, dIn, n, -1.7f);
  expectClose(download(dOut, n), out, 0, "scale");

  dpcrt_div_scalar_f32(&cpu, out.data(), in.data(), n, 3.3f);
  dpcrt_div_scalar_f32(&gpu, dOut, dIn, n, 3.3f);
  expectClose(download(dOut, n), out, 0, "div_scalar");
}

TEST_F(CudaCoreKernelsTest, BroadcastRowsTransposeIncrement) {
  const int64_t rows = 37, cols = 53;
  std::vector<float> bias = randomVector(cols, 2), out(rows * cols);
  std::vector<float> in = randomVector(rows * cols, 3);
  float *dBias = upload(bias), *dIn = upload(in);
  float *dOut = deviceZeros<float>(rows * cols);

  dpcrt_broadcast_rows_f32(&cpu, out.data(), bias.data(), rows, cols);
  dpcrt_broadcast_rows_f32(&gpu, dOut, dBias, rows, cols);
  expectClose(download(dOut, out.size()), out, 0, "broadcast_rows");

  dpcrt_transpose2d_f32(&cpu, out.data(), in.data(), rows, cols);
  dpcrt_transpose2d_f32(&gpu, dOut, dIn, rows, cols);
  expectClose(download(dOut, out.size()), out, 0, "transpose2d");

  std::vector<int64_t> counts = {0, 5, -3};
  int64_t *dCounts = upload(counts);
  dpcrt_increment_i64(&cpu, counts.data(), 3, 7);
  dpcrt_increment_i64(&gpu, dCounts, 3, 7);
  EXPECT_EQ(download(dCounts, 3), counts);
}

TEST_F(CudaCoreKernelsTest, UnaryAndGradients) {
  const size_t n = 777;
  std::vector<float> x = randomVector(n, 4), dy = randomVector(n, 5), out(n);
  x[10] = NAN; // ReLU propagates NaN
  float *dX = upload(x), *dDy = upload(dy), *dOut = deviceZeros<float>(n);
  // Every kind of unary_kinds.def, with parameters every kind accepts
  // (softplus beta 0.5 threshold 2, clamp to [0.5, 2], pow 0.5, ...).
  auto isExact = [](int kind) {
    switch (kind) {
    case DPCRT_UNARY_RELU:
    case DPCRT_UNARY_NEG:
    case DPCRT_UNARY_SQRT:
    case DPCRT_UNARY_RSQRT:
    case DPCRT_UNARY_ABS:
    case DPCRT_UNARY_RECIPROCAL:
    case DPCRT_UNARY_HARDSWISH:
    case DPCRT_UNARY_HARDSIGMOID:
    case DPCRT_UNARY_LEAKY_RELU:
    case DPCRT_UNARY_HARDTANH:
    case DPCRT_UNARY_CLAMP:
    case DPCRT_UNARY_POW_SCALAR:
    case DPCRT_UNARY_ROUND_BF16: // the autocast's roundings, bit for bit
    case DPCRT_UNARY_ROUND_F16:
      return true;
    default:
      return false;
    }
  };
  auto savesResult = [](int kind) {
    return kind == DPCRT_UNARY_TANH || kind == DPCRT_UNARY_SIGMOID ||
           kind == DPCRT_UNARY_EXP || kind == DPCRT_UNARY_SQRT ||
           kind == DPCRT_UNARY_RSQRT || kind == DPCRT_UNARY_RECIPROCAL;
  };
  const double p0 = 0.5, p1 = 2.0, p2 = 1.0;
  for (int kind = 0; kind < DPCRT_UNARY_KIND_END; ++kind) {
    double tol = isExact(kind) ? 0 : 1e-6;
    dpcrt_unary_params_f32(&cpu, kind, out.data(), x.data(), n, p0, p1, p2);
    dpcrt_unary_params_f32(&gpu, kind, dOut, dX, n, p0, p1, p2);
    std::vector<float> y = download(dOut, n);
    expectClose(y, out, tol, "unary " + std::to_string(kind));
    // The gradient from the saved value each kind uses (x for ReLU, y for
    // tanh and sigmoid), the CPU's y on both sides.
    const std::vector<float> &saved = savesResult(kind) ? out : x;
    float *dSaved = upload(saved);
    std::vector<float> dx(n);
    dpcrt_unary_params_grad_f32(&cpu, kind, dx.data(), dy.data(), saved.data(),
                                n, p0, p1, p2);
    dpcrt_unary_params_grad_f32(&gpu, kind, dOut, dDy, dSaved, n, p0, p1, p2);
    expectClose(download(dOut, n), dx, isExact(kind) ? 0 : 1e-6,
                "unary_grad " + std::to_string(kind));
  }
}

TEST_F(CudaCoreKernelsTest, BinaryCompareMaskedFillBroadcast) {
  // out [3, 4, 5] = a [3, 1, 5] op b [1, 4, 5].
  const int64_t dims[9] = {3, 4, 5, 5, 0, 1, 0, 5, 1};
  std::vector<float> a = randomVector(15, 6), b = randomVector(20, 7);
  a[2] = b[2]; // an equal pair for the comparisons
  std::vector<float> out(60);
  float *dA = upload(a), *dB = upload(b), *dOut = deviceZeros<float>(60);
  for (int kind = DPCRT_BINARY_ADD; kind <= DPCRT_BINARY_POW; ++kind) {
    dpcrt_binary_f32(&cpu, kind, out.data(), a.data(), b.data(), 3, dims, 0.3f);
    dpcrt_binary_f32(&gpu, kind, dOut, dA, dB, 3, dims, 0.3f);
    // powf: glibc's and CUDA's agree to an ulp or so, not bitwise.
    expectClose(download(dOut, 60), out, kind == DPCRT_BINARY_POW ? 1e-6 : 0,
                "binary " + std::to_string(kind));
  }
  // where: the same selection.
  std::vector<float> selector(60);
  for (int i = 0; i < 60; ++i)
    selector[i] = float(i % 3 == 0);
  std::vector<float> full = randomVector(60, 9), other = randomVector(60, 10);
  float *dMaskFull = upload(selector), *dFull = upload(full),
        *dOther = upload(other);
  dpcrt_where_f32(&cpu, out.data(), selector.data(), full.data(), other.data(),
                  60);
  dpcrt_where_f32(&gpu, dOut, dMaskFull, dFull, dOther, 60);
  expectClose(download(dOut, 60), out, 0, "where");
  for (int kind = DPCRT_COMPARE_EQ; kind <= DPCRT_COMPARE_GE; ++kind) {
    dpcrt_compare_f32(&cpu, kind, out.data(), a.data(), b.data(), 3, dims);
    dpcrt_compare_f32(&gpu, kind, dOut, dA, dB, 3, dims);
    expectClose(download(dOut, 60), out, 0, "compare " + std::to_string(kind));
  }
  // Rank 0: scalars.
  dpcrt_binary_f32(&cpu, DPCRT_BINARY_SUB, out.data(), a.data(), b.data(), 0,
                   nullptr, 2.0f);
  dpcrt_binary_f32(&gpu, DPCRT_BINARY_SUB, dOut, dA, dB, 0, nullptr, 2.0f);
  EXPECT_EQ(download(dOut, 1)[0], out[0]);

  // masked_fill of in [3, 4, 5] with a mask [1, 4, 1].
  const int64_t maskDims[6] = {3, 4, 5, 0, 1, 0};
  std::vector<float> in = randomVector(60, 8), mask = {1, 0, 0, 1};
  float *dIn = upload(in), *dMask = upload(mask);
  dpcrt_masked_fill_f32(&cpu, out.data(), in.data(), mask.data(), 3, maskDims,
                        -INFINITY);
  dpcrt_masked_fill_f32(&gpu, dOut, dIn, dMask, 3, maskDims, -INFINITY);
  expectClose(download(dOut, 60), out, 0, "masked_fill");
}

TEST_F(CudaCoreKernelsTest, RanksBeyondEightAreAnError) {
  std::vector<int64_t> dims(27, 1);
  float *d = deviceZeros<float>(1);
  dpcrt_binary_f32(&gpu, DPCRT_BINARY_ADD, d, d, d, 9, dims.data(), 1.0f);
  EXPECT_NE(gpu.error.find("binary: rank 9 is not supported on the cuda "
                           "backend"),
            std::string::npos)
      << gpu.error;
}

TEST_F(CudaCoreKernelsTest, StridedCopy) {
  // A [2, 3, 4] -> [4, 2, 3] permutation for 4-, 8- and 3-byte elements.
  const int64_t dims[9] = {2, 3, 4, 3, 1, 6, 12, 4, 1};
  for (int64_t elem : {4, 8, 3}) {
    std::vector<unsigned char> in(24 * elem), out(24 * elem, 0);
    for (size_t i = 0; i < in.size(); ++i)
      in[i] = static_cast<unsigned char>(i * 7 + 1);
    unsigned char *dIn = upload(in);
    unsigned char *dOut = deviceZeros<unsigned char>(out.size());
    dpcrt_strided_copy(&cpu, out.data(), in.data(), elem, 3, dims);
    dpcrt_strided_copy(&gpu, dOut, dIn, elem, 3, dims);
    EXPECT_EQ(download(dOut, out.size()), out) << "element size " << elem;
  }
}

//===----------------------------------------------------------------------===//
// Reductions and losses
//===----------------------------------------------------------------------===//

TEST_F(CudaCoreKernelsTest, ReduceSum) {
  // in [6, 7, 5]: to [7] (sum over dims 0 and 2), to [6, 1, 5], to a scalar.
  const int64_t cases[3][6] = {
      {6, 7, 5, 0, 1, 0}, {6, 7, 5, 5, 0, 1}, {6, 7, 5, 0, 0, 0}};
  const int64_t outN[3] = {7, 30, 1};
  std::vector<float> in = randomVector(210, 9);
  float *dIn = upload(in), *dOut = deviceZeros<float>(210);
  for (int c = 0; c < 3; ++c) {
    std::vector<float> out(outN[c]);
    dpcrt_reduce_sum_f32(&cpu, out.data(), in.data(), 3, cases[c], outN[c]);
    dpcrt_reduce_sum_f32(&gpu, dOut, dIn, 3, cases[c], outN[c]);
    expectClose(download(dOut, outN[c]), out, 1e-6,
                "reduce_sum case " + std::to_string(c));
  }
}

TEST_F(CudaCoreKernelsTest, CrossEntropyAndGradient) {
  const int64_t n = 33, c = 300;
  std::vector<float> logits = randomVector(n * c, 10);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i)
    labels[i] = (i * 37) % c;
  std::vector<float> dloss = {0.7f}, loss(1), dlogits(n * c);
  float *dLogits = upload(logits), *dDloss = upload(dloss);
  int64_t *dLabels = upload(labels);
  float *dLoss = deviceZeros<float>(1), *dGrad = deviceZeros<float>(n * c);
  dpcrt_cross_entropy_f32(&cpu, loss.data(), logits.data(), labels.data(), n,
                          c);
  dpcrt_cross_entropy_f32(&gpu, dLoss, dLogits, dLabels, n, c);
  expectClose(download(dLoss, 1), loss, 1e-6, "cross_entropy");
  dpcrt_cross_entropy_grad_f32(&cpu, dlogits.data(), dloss.data(),
                               logits.data(), labels.data(), n, c);
  dpcrt_cross_entropy_grad_f32(&gpu, dGrad, dDloss, dLogits, dLabels, n, c);
  expectClose(download(dGrad, n * c), dlogits, 1e-6, "cross_entropy_grad");

  // A label out of range: the CPU kernel's message, after synchronization.
  labels[5] = c;
  dLabels = upload(labels);
  dpcrt_cross_entropy_f32(&cpu, loss.data(), logits.data(), labels.data(), n,
                          c);
  dpcrt_cross_entropy_f32(&gpu, dLoss, dLogits, dLabels, n, c);
  dpc::cuda::synchronize(&gpu);
  EXPECT_EQ(gpu.error, cpu.error);
  EXPECT_EQ(gpu.error, "cross_entropy: label 300 of sample 5 is out of range "
                       "[0, 300)");
  gpu.error.clear();
}

TEST_F(CudaCoreKernelsTest, MseAndGradient) {
  const int64_t n = 4099;
  std::vector<float> pred = randomVector(n, 11), target = randomVector(n, 12);
  std::vector<float> dloss = {1.3f}, loss(1), dpred(n);
  float *dPred = upload(pred), *dTarget = upload(target),
        *dDloss = upload(dloss);
  float *dLoss = deviceZeros<float>(1), *dGrad = deviceZeros<float>(n);
  dpcrt_mse_loss_f32(&cpu, loss.data(), pred.data(), target.data(), n);
  dpcrt_mse_loss_f32(&gpu, dLoss, dPred, dTarget, n);
  expectClose(download(dLoss, 1), loss, 1e-6, "mse_loss");
  dpcrt_mse_loss_grad_f32(&cpu, dpred.data(), dloss.data(), pred.data(),
                          target.data(), n);
  dpcrt_mse_loss_grad_f32(&gpu, dGrad, dDloss, dPred, dTarget, n);
  expectClose(download(dGrad, n), dpred, 0, "mse_loss_grad");
}

//===----------------------------------------------------------------------===//
// GEMMs
//===----------------------------------------------------------------------===//

TEST_F(CudaCoreKernelsTest, GemmAllTransposesAndBeta) {
  const int64_t m = 19, n = 23, k = 37;
  std::vector<float> a = randomVector(m * k, 13), b = randomVector(k * n, 14);
  std::vector<float> c0 = randomVector(m * n, 15);
  float *dA = upload(a), *dB = upload(b);
  for (int transA = 0; transA < 2; ++transA)
    for (int transB = 0; transB < 2; ++transB)
      for (float beta : {0.0f, 0.5f}) {
        std::vector<float> c = c0;
        float *dC = upload(c0);
        dpcrt_gemm_f32(&cpu, c.data(), a.data(), b.data(), m, n, k, transA,
                       transB, beta);
        dpcrt_gemm_f32(&gpu, dC, dA, dB, m, n, k, transA, transB, beta);
        expectClose(download(dC, m * n), c, 1e-5,
                    "gemm " + std::to_string(transA) + std::to_string(transB) +
                        " beta " + std::to_string(beta));
      }
}

// bfloat16 operands: cuBLAS's GemmEx with float32 sums, against the CPU's.
TEST_F(CudaCoreKernelsTest, GemmBFloat16OperandsMatchesTheCpu) {
  const int64_t m = 19, n = 23, k = 37;
  std::vector<float> a = randomVector(m * k, 16), b = randomVector(k * n, 17);
  std::vector<uint16_t> aBits(m * k), bBits(k * n);
  dpcrt_pack_bf16(&cpu, aBits.data(), a.data(), m * k);
  dpcrt_pack_bf16(&cpu, bBits.data(), b.data(), k * n);
  std::vector<float> c0 = randomVector(m * n, 18);
  uint16_t *dA = upload(aBits), *dB = upload(bBits);
  for (int transA = 0; transA < 2; ++transA)
    for (int transB = 0; transB < 2; ++transB)
      for (float beta : {0.0f, 0.5f}) {
        std::vector<float> c = c0;
        float *dC = upload(c0);
        dpcrt_gemm_bf16(&cpu, c.data(), aBits.data(), bBits.data(), m, n, k,
                        transA, transB, beta);
        dpcrt_gemm_bf16(&gpu, dC, dA, dB, m, n, k, transA, transB, beta);
        EXPECT_EQ(gpu.error, "");
        expectClose(download(dC, m * n), c, 1e-5,
                    "gemm_bf16 " + std::to_string(transA) +
                        std::to_string(transB) + " beta " +
                        std::to_string(beta));
      }
}

TEST_F(CudaCoreKernelsTest, BatchedGemm) {
  const int64_t m = 5, n = 6, k = 7;
  // Batch [2, 3]: dense A and one B for all (uniform strides: one
  // strided-batched call); then permuted batch strides (a loop of GEMMs).
  const int64_t uniform[6] = {2, 3, 3, 1, 0, 0};
  const int64_t permuted[6] = {2, 3, 1, 2, 3, 1};
  std::vector<float> a = randomVector(6 * m * k, 16);
  std::vector<float> b = randomVector(6 * k * n, 17);
  float *dA = upload(a), *dB = upload(b);
  for (const int64_t *dims : {uniform, permuted})
    for (int trans = 0; trans < 2; ++trans) {
      std::vector<float> c(6 * m * n);
      float *dC = deviceZeros<float>(c.size());
      dpcrt_batched_gemm_f32(&cpu, c.data(), a.data(), b.data(), 2, dims, m, n,
                             k, trans, !trans);
      dpcrt_batched_gemm_f32(&gpu, dC, dA, dB, 2, dims, m, n, k, trans, !trans);
      expectClose(download(dC, c.size()), c, 1e-5, "batched_gemm");
    }
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

TEST_F(CudaCoreKernelsTest, SgdMatchesBitwise) {
  const int64_t n = 1025;
  std::vector<float> grad = randomVector(n, 18);
  float *dGrad = upload(grad);
  for (int nesterov = 0; nesterov < 2; ++nesterov) {
    std::vector<float> param = randomVector(n, 19), buf(n, 0.0f);
    float *dParam = upload(param), *dBuf = upload(buf);
    for (int64_t step = 0; step < 3; ++step) {
      cpu.step = gpu.step = step;
      dpcrt_sgd_update_f32(&cpu, param.data(), buf.data(), grad.data(), n, 0.1f,
                           0.9f, 0.1f, 1e-4f, nesterov);
      dpcrt_sgd_update_f32(&gpu, dParam, dBuf, dGrad, n, 0.1f, 0.9f, 0.1f,
                           1e-4f, nesterov);
    }
    expectClose(download(dParam, n), param, 0, "sgd param");
    expectClose(download(dBuf, n), buf, 0, "sgd momentum");
  }
}

TEST_F(CudaCoreKernelsTest, AdamAndAdamWMatchBitwise) {
  const int64_t n = 1025;
  std::vector<float> grad = randomVector(n, 20);
  float *dGrad = upload(grad);
  for (int decoupled = 0; decoupled < 2; ++decoupled) {
    std::vector<float> param = randomVector(n, 21), m(n, 0.0f), v(n, 0.0f);
    float *dParam = upload(param), *dM = upload(m), *dV = upload(v);
    for (int64_t step = 0; step < 4; ++step) {
      cpu.step = gpu.step = step;
      dpcrt_adam_update_f32(&cpu, param.data(), m.data(), v.data(), grad.data(),
                            n, 1e-3, 0.9, 0.999, 1e-8, 0.01, decoupled);
      dpcrt_adam_update_f32(&gpu, dParam, dM, dV, dGrad, n, 1e-3, 0.9, 0.999,
                            1e-8, 0.01, decoupled);
    }
    expectClose(download(dParam, n), param, 0, "adam param");
    expectClose(download(dM, n), m, 0, "adam exp_avg");
    expectClose(download(dV, n), v, 0, "adam exp_avg_sq");
  }
}

// The step's gradient norm: the device sums of the update and clip kernels
// against the CPU's (both in double; only the summation order differs).
TEST_F(CudaCoreKernelsTest, GradientNormMatchesTheCpu) {
  const int64_t n = 300000; // many blocks, and many of the CPU's L1 blocks
  std::vector<float> grad = randomVector(n, 23), other = randomVector(n, 24);
  float *dGrad = upload(grad), *dOther = upload(other);
  std::vector<float> param(n, 0.0f), m(n, 0.0f), v(n, 0.0f);
  float *dParam = upload(param), *dM = upload(m), *dV = upload(v);
  // Updates only: sgd of one gradient, adam of the other.
  dpcrt_sgd_update_f32(&cpu, param.data(), nullptr, grad.data(), n, 0.1f, 0.0f,
                       0.0f, 0.0f, 0);
  dpcrt_sgd_update_f32(&gpu, dParam, nullptr, dGrad, n, 0.1f, 0.0f, 0.0f, 0.0f,
                       0);
  dpcrt_adam_update_f32(&cpu, param.data(), m.data(), v.data(), other.data(), n,
                        1e-3, 0.9, 0.999, 1e-8, 0.01, 1);
  dpcrt_adam_update_f32(&gpu, dParam, dM, dV, dOther, n, 1e-3, 0.9, 0.999, 1e-8,
                        0.01, 1);
  dpc::cuda::synchronize(&gpu);
  double cpuNorm = dpc::cpu::backendTable().takeGradientNorm(&cpu);
  double gpuNorm = dpc::cuda::takeGradientNorm(&gpu);
  EXPECT_GT(cpuNorm, 0.0);
  EXPECT_NEAR(gpuNorm, cpuNorm, 1e-12 * cpuNorm);
  // Cleared for the next step.
  dpc::cuda::synchronize(&gpu);
  EXPECT_EQ(dpc::cuda::takeGradientNorm(&gpu), 0.0);
  // clip_grad_norm_: the norm before clipping, not the clipped updates'.
  float *cpuGrads[] = {grad.data(), other.data()};
  float *gpuGrads[] = {dGrad, dOther};
  int64_t sizes[] = {n, n};
  dpcrt_clip_grad_norm_f32(&cpu, cpuGrads, sizes, 2, 0.5, 2.0);
  dpcrt_clip_grad_norm_f32(&gpu, gpuGrads, sizes, 2, 0.5, 2.0);
  dpcrt_sgd_update_f32(&cpu, param.data(), nullptr, grad.data(), n, 0.1f, 0.0f,
                       0.0f, 0.0f, 0);
  dpcrt_sgd_update_f32(&gpu, dParam, nullptr, dGrad, n, 0.1f, 0.0f, 0.0f, 0.0f,
                       0);
  dpc::cuda::synchronize(&gpu);
  EXPECT_EQ(gpu.error, "");
  double clippedCpu = dpc::cpu::backendTable().takeGradientNorm(&cpu);
  EXPECT_NEAR(clippedCpu, cpuNorm, 1e-12 * cpuNorm);
  EXPECT_NEAR(dpc::cuda::takeGradientNorm(&gpu), clippedCpu,
              1e-12 * clippedCpu);
}

// GradScaler (--grad-scaler): the loss scale's seed, the unscale bit for bit
// as the CPU's, the inf check read back to the host, and the skipped
// updates (the parameter untouched on the device) and the norm measured at
// the unscale.
// The 16-bit copies of saved activations: the same bits as the CPU's, both
// ways.
TEST_F(CudaCoreKernelsTest, PackSavedMatchesTheCpu) {
  const int64_t n = 300001;
  std::vector<float> x = randomVector(n, 41);
  x[0] = -0.0f;
  x[1] = INFINITY;
  x[2] = 70000.0f; // beyond float16: inf
  using Pack = void (*)(dpcrt_context *, uint16_t *, const float *, int64_t);
  using Unpack = void (*)(dpcrt_context *, float *, const uint16_t *, int64_t);
  for (auto [pack, unpack] :
       {std::pair<Pack, Unpack>{dpcrt_pack_bf16, dpcrt_unpack_bf16},
        std::pair<Pack, Unpack>{dpcrt_pack_f16, dpcrt_unpack_f16}}) {
    std::vector<uint16_t> packed(n);
    std::vector<float> unpacked(n);
    pack(&cpu, packed.data(), x.data(), n);
    unpack(&cpu, unpacked.data(), packed.data(), n);
    float *dX = upload(x), *dUnpacked = deviceZeros<float>(n);
    uint16_t *dPacked = deviceZeros<uint16_t>(n);
    pack(&gpu, dPacked, dX, n);
    unpack(&gpu, dUnpacked, dPacked, n);
    EXPECT_EQ(gpu.error, "");
    EXPECT_EQ(download(dPacked, n), packed);
    expectClose(download(dUnpacked, n), unpacked, 0, "unpacked");
  }
}

TEST_F(CudaCoreKernelsTest, GradScalerMatchesTheCpu) {
  for (dpcrt_context *ctx : {&cpu, &gpu}) {
    ctx->gradScaler.enabled = true;
    ctx->gradScaler.scale = 3.0f;
  }
  float *dSeed = deviceZeros<float>(1);
  dpcrt_loss_scale_f32(&gpu, dSeed, 1);
  EXPECT_EQ(download(dSeed, 1)[0], 3.0f);

  const int64_t n = 300000;
  std::vector<float> grad = randomVector(n, 31), other = randomVector(n, 32);
  float *dGrad = upload(grad), *dOther = upload(other);
  float *cpuGrads[] = {grad.data(), other.data()};
  float *gpuGrads[] = {dGrad, dOther};
  int64_t sizes[] = {n, n};
  dpcrt_unscale_grads_f32(&cpu, cpuGrads, sizes, 2);
  dpcrt_unscale_grads_f32(&gpu, gpuGrads, sizes, 2);
  EXPECT_EQ(gpu.error, "");
  EXPECT_FALSE(gpu.gradScaler.foundInf);
  expectClose(download(dGrad, n), grad, 0, "unscaled");
  expectClose(download(dOther, n), other, 0, "unscaled");
  dpc::cuda::synchronize(&gpu);
  double cpuNorm = dpc::cpu::backendTable().takeGradientNorm(&cpu);
  EXPECT_NEAR(dpc::cuda::takeGradientNorm(&gpu), cpuNorm, 1e-12 * cpuNorm);

  // An inf in the last element: found on the host, the update skipped.
  other[n - 1] = INFINITY;
  float *dBad = upload(other);
  float *badGrads[] = {dBad};
  dpcrt_unscale_grads_f32(&gpu, badGrads, sizes, 1);
  EXPECT_TRUE(gpu.gradScaler.foundInf);
  std::vector<float> param(n, 1.0f);
  float *dParam = upload(param);
  dpcrt_sgd_update_f32(&gpu, dParam, nullptr, dBad, n, 0.1f, 0.0f, 0.0f, 0.0f,
                       0);
  dpc::cuda::synchronize(&gpu);
  expectClose(download(dParam, n), param, 0, "skipped update");
  dpc::cuda::takeGradientNorm(&gpu);
  for (dpcrt_context *ctx : {&cpu, &gpu})
    ctx->gradScaler = dpc::GradScalerState();
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

TEST_F(CudaCoreKernelsTest, AllReduceOnOneRankKeepsTheData) {
  dpc::cuda::initCommunicator(&gpu); // a 1-rank NCCL communicator
  const int64_t n = 300;
  std::vector<float> data = randomVector(n, 22);
  float *dData = upload(data);
  int64_t handle = dpcrt_allreduce_start(&gpu, 0, dData, n);
  EXPECT_GT(handle, 0);
  dpcrt_allreduce_wait(&gpu, handle);
  dpc::drainPending(&gpu);
  expectClose(download(dData, n), data, 0, "allreduce");

  // A start without its wait is reported at the end of the step.
  dpcrt_allreduce_start(&gpu, 1, dData, n);
  dpc::drainPending(&gpu);
  EXPECT_EQ(gpu.error, "1 all-reduce(s) were started but never waited for");
  gpu.error.clear();
}

TEST_F(CudaCoreKernelsTest, CompressedAllReduceOnOneRankMatchesTheCpu) {
  // fp16/bf16_compress_hook on one rank: the values rounded to 16 bits,
  // exactly as the CPU backend rounds them.
  dpc::cuda::initCommunicator(&gpu);
  const int64_t n = 300;
  for (int32_t commDType : {DPCRT_GRAD_COMM_F16, DPCRT_GRAD_COMM_BF16}) {
    std::vector<float> data = randomVector(n, 23);
    float *dData = upload(data);
    int64_t handle =
        dpcrt_allreduce_start_compressed(&gpu, 0, dData, n, commDType);
    dpcrt_allreduce_wait(&gpu, handle);
    dpc::drainPending(&gpu);
    dpcrt_context cpu;
    dpcrt_allreduce_start_compressed(&cpu, 0, data.data(), n, commDType);
    expectClose(download(dData, n), data, 0, "compressed allreduce");
    EXPECT_EQ(gpu.error, "");
  }
}

//===----------------------------------------------------------------------===//
// float64 (the _f64 kernels of a model.double() model)
//===----------------------------------------------------------------------===//
//
// The same formulas in double on both sides: the updates bitwise (IEEE
// operations and the same explicit fused multiply-adds), the rest to 1e-13
// relative (CUDA's and glibc's double exp, log, ... an ulp or two apart,
// sums in other orders).

/// Uniform in +-[0.1, 2] (positive: [0.1, 2]), doubles with every mantissa
/// bit used.
std::vector<double> randomDoubles(size_t n, unsigned seed,
                                  bool positive = false) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> magnitude(0.1, 2.0);
  std::bernoulli_distribution negative(0.5);
  std::vector<double> v(n);
  for (double &x : v) {
    double m = magnitude(gen);
    x = !positive && negative(gen) ? -m : m;
  }
  return v;
}

TEST_F(CudaCoreKernelsTest, F64ElementwiseMatchesTheCpu) {
  const size_t n = 1000;
  std::vector<double> in = randomDoubles(n, 31), out(n);
  std::vector<double> positive = randomDoubles(n, 32, true);
  std::vector<double> dy = randomDoubles(n, 33);
  double *dIn = upload(in), *dPositive = upload(positive), *dDy = upload(dy);
  double *dOut = deviceZeros<double>(n);

  dpcrt_fill_f64(&cpu, out.data(), n, 1 + 1e-10);
  dpcrt_fill_f64(&gpu, dOut, n, 1 + 1e-10);
  expectClose(download(dOut, n), out, 0, "fill_f64");
  dpcrt_scale_f64(&cpu, out.data(), in.data(), n, -1.7);
  dpcrt_scale_f64(&gpu, dOut, dIn, n, -1.7);
  expectClose(download(dOut, n), out, 0, "scale_f64");
  dpcrt_div_scalar_f64(&cpu, out.data(), in.data(), n, 3.3);
  dpcrt_div_scalar_f64(&gpu, dOut, dIn, n, 3.3);
  expectClose(download(dOut, n), out, 0, "div_scalar_f64");

  // Every kind on positive inputs (log's domain), with parameters where
  // the kind has them.
  for (int32_t kind = 0; kind <= DPCRT_UNARY_POW_SCALAR; ++kind) {
    double p0 =
        kind == DPCRT_UNARY_HARDTANH || kind == DPCRT_UNARY_CLAMP ? 0.3 : 1.3;
    double p1 = kind == DPCRT_UNARY_POW_SCALAR ? 0 : 1.5, p2 = 0.9;
    std::string name = "unary_f64 kind " + std::to_string(kind);
    dpcrt_unary_params_f64(&cpu, kind, out.data(), positive.data(), n, p0, p1,
                           p2);
    dpcrt_unary_params_f64(&gpu, kind, dOut, dPositive, n, p0, p1, p2);
    expectClose(download(dOut, n), out, 1e-13, name);
    dpcrt_unary_params_grad_f64(&cpu, kind, out.data(), dy.data(),
                                positive.data(), n, p0, p1, p2);
    dpcrt_unary_params_grad_f64(&gpu, kind, dOut, dDy, dPositive, n, p0, p1,
                                p2);
    expectClose(download(dOut, n), out, 1e-13, name + " grad");
  }

  // [40, 25] op [25], every kind (pow on positive bases).
  const int64_t rows = 40, cols = 25;
  const int64_t dims[] = {rows, cols, cols, 1, 0, 1};
  for (int32_t kind = DPCRT_BINARY_ADD; kind <= DPCRT_BINARY_POW; ++kind) {
    std::vector<double> result(rows * cols);
    dpcrt_binary_f64(&cpu, kind, result.data(), positive.data(), in.data(), 2,
                     dims, 0.7);
    dpcrt_binary_f64(&gpu, kind, dOut, dPositive, dIn, 2, dims, 0.7);
    expectClose(download(dOut, rows * cols), result,
                kind == DPCRT_BINARY_POW ? 1e-13 : 0,
                "binary_f64 kind " + std::to_string(kind));
  }

  std::vector<double> rowsOut(rows * cols);
  dpcrt_broadcast_rows_f64(&cpu, rowsOut.data(), in.data(), rows, cols);
  dpcrt_broadcast_rows_f64(&gpu, dOut, dIn, rows, cols);
  expectClose(download(dOut, rows * cols), rowsOut, 0, "broadcast_rows_f64");
}

TEST_F(CudaCoreKernelsTest, F64GemmReduceSoftmaxMatchTheCpu) {
  const int64_t m = 19, n = 23, k = 37;
  std::vector<double> a = randomDoubles(m * k, 41),
                      b = randomDoubles(k * n, 42);
  std::vector<double> c0 = randomDoubles(m * n, 43);
  double *dA = upload(a), *dB = upload(b);
  for (int transA = 0; transA < 2; ++transA)
    for (int transB = 0; transB < 2; ++transB)
      for (double beta : {0.0, 0.5}) {
        std::vector<double> c = c0;
        double *dC = upload(c0);
        dpcrt_gemm_f64(&cpu, c.data(), a.data(), b.data(), m, n, k, transA,
                       transB, beta);
        dpcrt_gemm_f64(&gpu, dC, dA, dB, m, n, k, transA, transB, beta);
        expectClose(download(dC, m * n), c, 1e-13,
                    "gemm_f64 " + std::to_string(transA) +
                        std::to_string(transB));
      }

  // in [6, 7, 5]: to [7], to [6, 1, 5], to a scalar.
  const int64_t cases[3][6] = {
      {6, 7, 5, 0, 1, 0}, {6, 7, 5, 5, 0, 1}, {6, 7, 5, 0, 0, 0}};
  const int64_t outN[3] = {7, 30, 1};
  std::vector<double> in = randomDoubles(210, 44), dy = randomDoubles(210, 45);
  double *dIn = upload(in), *dDy = upload(dy);
  double *dOut = deviceZeros<double>(210), *dGrad = deviceZeros<double>(210);
  for (int i = 0; i < 3; ++i) {
    std::vector<double> out(outN[i]);
    dpcrt_reduce_sum_f64(&cpu, out.data(), in.data(), 3, cases[i], outN[i]);
    dpcrt_reduce_sum_f64(&gpu, dOut, dIn, 3, cases[i], outN[i]);
    expectClose(download(dOut, outN[i]), out, 1e-13,
                "reduce_sum_f64 case " + std::to_string(i));
  }

  // [6, 7, 5] along the middle dimension (inner 5) and [42, 5] rows.
  for (int64_t inner : {5, 1})
    for (int log = 0; log < 2; ++log) {
      int64_t outer = inner == 1 ? 42 : 6, size = inner == 1 ? 5 : 7;
      std::string name = std::string(log ? "log_softmax_f64" : "softmax_f64") +
                         " inner " + std::to_string(inner);
      std::vector<double> y(210), dx(210);
      dpcrt_softmax_f64(&cpu, y.data(), in.data(), outer, size, inner, log);
      dpcrt_softmax_f64(&gpu, dOut, dIn, outer, size, inner, log);
      expectClose(download(dOut, 210), y, 1e-13, name);
      dpcrt_softmax_grad_f64(&cpu, dx.data(), dy.data(), y.data(), outer, size,
                             inner, log);
      dpcrt_softmax_grad_f64(&gpu, dGrad, dDy, dOut, outer, size, inner, log);
      expectClose(download(dGrad, 210), dx, 1e-13, name + " grad");
    }
}

TEST_F(CudaCoreKernelsTest, F64LossesMatchTheCpu) {
  const int64_t n = 33, c = 300;
  std::vector<double> logits = randomDoubles(n * c, 51);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i)
    labels[i] = (i * 37) % c;
  std::vector<double> dloss = {0.7 + 1e-10}, loss(1), grad(n * c);
  double *dLogits = upload(logits), *dDloss = upload(dloss);
  int64_t *dLabels = upload(labels);
  double *dLoss = deviceZeros<double>(1), *dGrad = deviceZeros<double>(n * c);
  dpcrt_cross_entropy_f64(&cpu, loss.data(), logits.data(), labels.data(), n,
                          c);
  dpcrt_cross_entropy_f64(&gpu, dLoss, dLogits, dLabels, n, c);
  expectClose(download(dLoss, 1), loss, 1e-13, "cross_entropy_f64");
  dpcrt_cross_entropy_grad_f64(&cpu, grad.data(), dloss.data(), logits.data(),
                               labels.data(), n, c);
  dpcrt_cross_entropy_grad_f64(&gpu, dGrad, dDloss, dLogits, dLabels, n, c);
  expectClose(download(dGrad, n * c), grad, 1e-13, "cross_entropy_grad_f64");

  dpcrt_nll_loss_f64(&cpu, loss.data(), logits.data(), labels.data(), n, c);
  dpcrt_nll_loss_f64(&gpu, dLoss, dLogits, dLabels, n, c);
  expectClose(download(dLoss, 1), loss, 1e-13, "nll_loss_f64");
  dpcrt_nll_loss_grad_f64(&cpu, grad.data(), dloss.data(), labels.data(), n, c);
  dpcrt_nll_loss_grad_f64(&gpu, dGrad, dDloss, dLabels, n, c);
  expectClose(download(dGrad, n * c), grad, 0, "nll_loss_grad_f64");

  const int64_t size = n * c;
  std::vector<double> target = randomDoubles(size, 52);
  double *dTarget = upload(target);
  dpcrt_mse_loss_f64(&cpu, loss.data(), logits.data(), target.data(), size);
  dpcrt_mse_loss_f64(&gpu, dLoss, dLogits, dTarget, size);
  expectClose(download(dLoss, 1), loss, 1e-13, "mse_loss_f64");
  dpcrt_mse_loss_grad_f64(&cpu, grad.data(), dloss.data(), logits.data(),
                          target.data(), size);
  dpcrt_mse_loss_grad_f64(&gpu, dGrad, dDloss, dLogits, dTarget, size);
  expectClose(download(dGrad, size), grad, 0, "mse_loss_grad_f64");
}

TEST_F(CudaCoreKernelsTest, F64OptimizersAndClippingMatchTheCpu) {
  const int64_t n = 4099;
  std::vector<double> param = randomDoubles(n, 61), buf(n, 0.0);
  std::vector<double> m(n, 0.0), v(n, 0.0);
  double *dParam = upload(param), *dBuf = upload(buf), *dM = upload(m),
         *dV = upload(v);
  for (int step = 0; step < 3; ++step) {
    std::vector<double> grad = randomDoubles(n, 62 + step);
    double *dGrad = upload(grad);
    cpu.step = gpu.step = step;
    dpcrt_sgd_update_f64(&cpu, param.data(), buf.data(), grad.data(), n, 0.05,
                         0.9, 0.1, 0.01, 1);
    dpcrt_sgd_update_f64(&gpu, dParam, dBuf, dGrad, n, 0.05, 0.9, 0.1, 0.01, 1);
    dpcrt_adam_update_f64(&cpu, param.data(), m.data(), v.data(), grad.data(),
                          n, 1e-3, 0.9, 0.999, 1e-8, 0.01, step % 2);
    dpcrt_adam_update_f64(&gpu, dParam, dM, dV, dGrad, n, 1e-3, 0.9, 0.999,
                          1e-8, 0.01, step % 2);
  }
  expectClose(download(dParam, n), param, 0, "sgd + adam f64 param");
  expectClose(download(dBuf, n), buf, 0, "sgd f64 momentum_buffer");
  expectClose(download(dM, n), m, 0, "adam f64 exp_avg");
  expectClose(download(dV, n), v, 0, "adam f64 exp_avg_sq");
  double cpuNorm = dpc::cpu::backendTable().takeGradientNorm(&cpu);
  double gpuNorm = dpc::cuda::takeGradientNorm(&gpu);
  EXPECT_NEAR(gpuNorm, cpuNorm, 1e-12 * cpuNorm);

  for (double normType : {2.0, 1.0, double(INFINITY)}) {
    std::vector<double> g0 = randomDoubles(n, 71), g1 = randomDoubles(37, 72);
    double *d0 = upload(g0), *d1 = upload(g1);
    double *cpuGrads[] = {g0.data(), g1.data()}, *gpuGrads[] = {d0, d1};
    const int64_t sizes[] = {n, 37};
    dpcrt_clip_grad_norm_f64(&cpu, cpuGrads, sizes, 2, 0.5, normType);
    dpcrt_clip_grad_norm_f64(&gpu, gpuGrads, sizes, 2, 0.5, normType);
    std::string name = "clip_grad_norm_f64 p=" + std::to_string(normType);
    expectClose(download(d0, n), g0, 1e-13, name);
    expectClose(download(d1, 37), g1, 1e-13, name);
  }
}

} // namespace
