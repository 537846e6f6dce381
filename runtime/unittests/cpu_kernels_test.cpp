//===- cpu_kernels_test.cpp - CPU kernels against naive references --------===//

#include "comm/grad_compression.h"
#include "core/context.h"
#include "test_util.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

namespace {

using dpc::test::randomVector;

void expectNear(const std::vector<float> &got, const std::vector<double> &want,
                double relTol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], relTol * std::max(1.0, std::fabs(want[i])))
        << "at " << i;
}

/// C = op(A) @ op(B) + beta * C in double, the reference of the GEMMs.
std::vector<double> referenceGemm(const std::vector<float> &a,
                                  const std::vector<float> &b,
                                  const std::vector<float> &c, int64_t m,
                                  int64_t n, int64_t k, bool transA,
                                  bool transB, float beta) {
  std::vector<double> want(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) {
        double av = transA ? a[p * m + i] : a[i * k + p];
        double bv = transB ? b[j * k + p] : b[p * n + j];
        sum += av * bv;
      }
      want[i * n + j] = sum + beta * c[i * n + j];
    }
  return want;
}

class CpuKernelsTest : public ::testing::Test {
protected:
  dpcrt_context ctx;
};

//===----------------------------------------------------------------------===//
// GEMM
//===----------------------------------------------------------------------===//

TEST_F(CpuKernelsTest, GemmAllTransposes) {
  const int64_t m = 3, n = 5, k = 4;
  for (int transA = 0; transA < 2; ++transA)
    for (int transB = 0; transB < 2; ++transB)
      for (float beta : {0.0f, 0.5f}) {
        std::vector<float> a = randomVector(m * k, 1 + transA);
        std::vector<float> b = randomVector(k * n, 3 + transB);
        std::vector<float> c = randomVector(m * n, 5);
        std::vector<double> want =
            referenceGemm(a, b, c, m, n, k, transA, transB, beta);
        dpcrt_gemm_f32(&ctx, c.data(), a.data(), b.data(), m, n, k, transA,
                       transB, beta);
        SCOPED_TRACE("transA=" + std::to_string(transA) + " transB=" +
                     std::to_string(transB) + " beta=" + std::to_string(beta));
        expectNear(c, want, 1e-6);
      }
  EXPECT_EQ(ctx.error, "");
}

// bfloat16 operands (--precision bf16's GEMMs, dpc-bf16-kernels): oneDNN's
// bfloat16 matmul on CPUs with bfloat16 units, widened operands on
// OpenBLAS elsewhere; either way the exact products summed in float32, so
// within float32 rounding of the double reference, for every transpose and
// beta, with sizes that leave remainders of every vector width.
TEST_F(CpuKernelsTest, GemmBFloat16Operands) {
  const int64_t m = 37, n = 29, k = 67;
  for (int transA = 0; transA < 2; ++transA)
    for (int transB = 0; transB < 2; ++transB)
      for (float beta : {0.0f, 0.5f}) {
        std::vector<float> a = randomVector(m * k, 7 + transA);
        std::vector<float> b = randomVector(k * n, 9 + transB);
        std::vector<uint16_t> aBits(a.size()), bBits(b.size());
        dpcrt_pack_bf16(&ctx, aBits.data(), a.data(), m * k);
        dpcrt_pack_bf16(&ctx, bBits.data(), b.data(), k * n);
        dpcrt_unpack_bf16(&ctx, a.data(), aBits.data(), m * k);
        dpcrt_unpack_bf16(&ctx, b.data(), bBits.data(), k * n);
        std::vector<float> c = randomVector(m * n, 11);
        std::vector<double> want =
            referenceGemm(a, b, c, m, n, k, transA, transB, beta);
        dpcrt_gemm_bf16(&ctx, c.data(), aBits.data(), bBits.data(), m, n, k,
                        transA, transB, beta);
        SCOPED_TRACE("transA=" + std::to_string(transA) + " transB=" +
                     std::to_string(transB) + " beta=" + std::to_string(beta));
        expectNear(c, want, 1e-5);
      }
  EXPECT_EQ(ctx.error, "");
}

TEST_F(CpuKernelsTest, GemmBetaZeroIgnoresGarbage) {
  std::vector<float> a = {1, 2}, b = {3, 4}, c = {NAN};
  dpcrt_gemm_f32(&ctx, c.data(), a.data(), b.data(), 1, 1, 2, 0, 0, 0.0f);
  EXPECT_EQ(c[0], 11.0f);
}

TEST_F(CpuKernelsTest, GemmEmptyInnerDimension) {
  std::vector<float> c = {2, 4};
  dpcrt_gemm_f32(&ctx, c.data(), nullptr, nullptr, 1, 2, 0, 0, 0, 0.5f);
  EXPECT_EQ(c, (std::vector<float>{1, 2}));
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

TEST_F(CpuKernelsTest, FillCopyScaleBroadcastRowsTranspose) {
  std::vector<float> v(5, 0.0f);
  dpcrt_fill_f32(&ctx, v.data(), 5, 2.5f);
  EXPECT_EQ(v, std::vector<float>(5, 2.5f));

  std::vector<float> w(5);
  dpcrt_copy(&ctx, w.data(), v.data(), 5 * sizeof(float));
  EXPECT_EQ(w, v);

  dpcrt_scale_f32(&ctx, w.data(), w.data(), 5, -2.0f);
  EXPECT_EQ(w, std::vector<float>(5, -5.0f));

  std::vector<float> bias = {1, 2, 3}, rows(6);
  dpcrt_broadcast_rows_f32(&ctx, rows.data(), bias.data(), 2, 3);
  EXPECT_EQ(rows, (std::vector<float>{1, 2, 3, 1, 2, 3}));

  // 37 x 45 crosses the 32-element blocking in both directions.
  const int64_t r = 37, c = 45;
  std::vector<float> in = randomVector(r * c, 7), out(r * c);
  dpcrt_transpose2d_f32(&ctx, out.data(), in.data(), r, c);
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j)
      ASSERT_EQ(out[j * r + i], in[i * c + j]);
}

TEST_F(CpuKernelsTest, UnaryAndGrad) {
  std::vector<float> x = {-2.0f, -0.0f, 0.0f, 0.5f, 3.0f};
  std::vector<float> dy = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
  std::vector<float> y(5), dx(5);

  dpcrt_unary_f32(&ctx, DPCRT_UNARY_RELU, y.data(), x.data(), 5);
  EXPECT_EQ(y, (std::vector<float>{0, 0, 0, 0.5f, 3.0f}));
  dpcrt_unary_grad_f32(&ctx, DPCRT_UNARY_RELU, dx.data(), dy.data(), x.data(),
                       5);
  EXPECT_EQ(dx, (std::vector<float>{0, 0, 0, 4, 5}));

  dpcrt_unary_f32(&ctx, DPCRT_UNARY_NEG, y.data(), x.data(), 5);
  EXPECT_EQ(y[4], -3.0f);
  dpcrt_unary_grad_f32(&ctx, DPCRT_UNARY_NEG, dx.data(), dy.data(), y.data(),
                       5);
  EXPECT_EQ(dx[0], -1.0f);

  dpcrt_unary_f32(&ctx, DPCRT_UNARY_TANH, y.data(), x.data(), 5);
  dpcrt_unary_grad_f32(&ctx, DPCRT_UNARY_TANH, dx.data(), dy.data(), y.data(),
                       5);
  for (int i = 0; i < 5; ++i) {
    double t = std::tanh(double(x[i]));
    EXPECT_NEAR(y[i], t, 1e-7);
    EXPECT_NEAR(dx[i], dy[i] * (1 - t * t), 1e-6 * dy[i]);
  }

  dpcrt_unary_f32(&ctx, DPCRT_UNARY_SIGMOID, y.data(), x.data(), 5);
  dpcrt_unary_grad_f32(&ctx, DPCRT_UNARY_SIGMOID, dx.data(), dy.data(),
                       y.data(), 5);
  for (int i = 0; i < 5; ++i) {
    double s = 1.0 / (1.0 + std::exp(-double(x[i])));
    EXPECT_NEAR(y[i], s, 1e-7);
    EXPECT_NEAR(dx[i], dy[i] * s * (1 - s), 1e-6 * dy[i]);
  }

  // exp: within an ulp of the double result (relative 1.2e-7); its
  // gradient form is dy * y.
  dpcrt_unary_f32(&ctx, DPCRT_UNARY_EXP, y.data(), x.data(), 5);
  dpcrt_unary_grad_f32(&ctx, DPCRT_UNARY_EXP, dx.data(), dy.data(), y.data(),
                       5);
  for (int i = 0; i < 5; ++i) {
    double e = std::exp(double(x[i]));
    EXPECT_NEAR(y[i], e, 1.2e-7 * e);
    EXPECT_EQ(dx[i], dy[i] * y[i]);
  }
  EXPECT_EQ(ctx.error, "");
}

// The pointwise kinds against double references of torch's formulas on a
// dense sweep of their domain: values and gradients (from the input or the
// result, as the nn op's record says) relative to max(1, |reference|). The
// maxima are printed (docs/ARCHITECTURE.md quotes them).
struct PointwiseCase {
  const char *name;
  int32_t kind;
  double lo, hi;
  double p0, p1, p2;
  bool gradFromResult;
  double (*f)(double x, double p0, double p1, double p2);
  double (*df)(double x, double p0, double p1, double p2);
};

double sigmoidOf(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double softplusOf(double x, double beta, double threshold) {
  return x * beta > threshold ? x : std::log1p(std::exp(x * beta)) / beta;
}

const PointwiseCase kPointwiseCases[] = {
    {"tanh", DPCRT_UNARY_TANH, -12, 12, 0, 0, 0, true,
     [](double x, double, double, double) { return std::tanh(x); },
     [](double x, double, double, double) {
       return 1 - std::tanh(x) * std::tanh(x);
     }},
    {"sigmoid", DPCRT_UNARY_SIGMOID, -30, 30, 0, 0, 0, true,
     [](double x, double, double, double) { return 1 / (1 + std::exp(-x)); },
     [](double x, double, double, double) {
       double s = 1 / (1 + std::exp(-x));
       return s * (1 - s);
     }},
    {"log", DPCRT_UNARY_LOG, 0.05, 20, 0, 0, 0, false,
     [](double x, double, double, double) { return std::log(x); },
     [](double x, double, double, double) { return 1 / x; }},
    {"log1p", DPCRT_UNARY_LOG1P, -0.9, 20, 0, 0, 0, false,
     [](double x, double, double, double) { return std::log1p(x); },
     [](double x, double, double, double) { return 1 / (1 + x); }},
    {"sqrt", DPCRT_UNARY_SQRT, 0.01, 50, 0, 0, 0, true,
     [](double x, double, double, double) { return std::sqrt(x); },
     [](double x, double, double, double) { return 0.5 / std::sqrt(x); }},
    {"rsqrt", DPCRT_UNARY_RSQRT, 0.05, 50, 0, 0, 0, true,
     [](double x, double, double, double) { return 1 / std::sqrt(x); },
     [](double x, double, double, double) { return -0.5 * std::pow(x, -1.5); }},
    {"abs", DPCRT_UNARY_ABS, -5, 5, 0, 0, 0, false,
     [](double x, double, double, double) { return std::fabs(x); },
     [](double x, double, double, double) {
       return double((x > 0) - (x < 0));
     }},
    {"reciprocal", DPCRT_UNARY_RECIPROCAL, 0.1, 10, 0, 0, 0, true,
     [](double x, double, double, double) { return 1 / x; },
     [](double x, double, double, double) { return -1 / (x * x); }},
    {"sin", DPCRT_UNARY_SIN, -10, 10, 0, 0, 0, false,
     [](double x, double, double, double) { return std::sin(x); },
     [](double x, double, double, double) { return std::cos(x); }},
    {"cos", DPCRT_UNARY_COS, -10, 10, 0, 0, 0, false,
     [](double x, double, double, double) { return std::cos(x); },
     [](double x, double, double, double) { return -std::sin(x); }},
    {"erf", DPCRT_UNARY_ERF, -5, 5, 0, 0, 0, false,
     [](double x, double, double, double) { return std::erf(x); },
     [](double x, double, double, double) {
       return 2 / std::sqrt(M_PI) * std::exp(-x * x);
     }},
    {"silu", DPCRT_UNARY_SILU, -20, 20, 0, 0, 0, false,
     [](double x, double, double, double) { return x * sigmoidOf(x); },
     [](double x, double, double, double) {
       double s = sigmoidOf(x);
       return s * (1 + x * (1 - s));
     }},
    {"softplus", DPCRT_UNARY_SOFTPLUS, -20, 30, 1, 20, 0, false,
     [](double x, double b, double t, double) { return softplusOf(x, b, t); },
     [](double x, double b, double t, double) {
       return x * b > t ? 1.0 : sigmoidOf(x * b);
     }},
    {"softplus(beta=2, threshold=5)", DPCRT_UNARY_SOFTPLUS, -10, 10, 2, 5, 0,
     false,
     [](double x, double b, double t, double) { return softplusOf(x, b, t); },
     [](double x, double b, double t, double) {
       return x * b > t ? 1.0 : sigmoidOf(x * b);
     }},
    {"mish", DPCRT_UNARY_MISH, -20, 20, 0, 0, 0, false,
     [](double x, double, double, double) {
       return x * std::tanh(std::log1p(std::exp(x)));
     },
     [](double x, double, double, double) {
       double t = std::tanh(std::log1p(std::exp(x)));
       return t + x * sigmoidOf(x) * (1 - t * t);
     }},
    {"hardswish", DPCRT_UNARY_HARDSWISH, -6, 6, 0, 0, 0, false,
     [](double x, double, double, double) {
       return x * std::min(std::max(x + 3, 0.0), 6.0) / 6;
     },
     [](double x, double, double, double) {
       return x < -3 ? 0.0 : (x <= 3 ? x / 3 + 0.5 : 1.0);
     }},
    {"hardsigmoid", DPCRT_UNARY_HARDSIGMOID, -6, 6, 0, 0, 0, false,
     [](double x, double, double, double) {
       return std::min(std::max(x + 3, 0.0), 6.0) / 6;
     },
     [](double x, double, double, double) {
       return x > -3 && x < 3 ? 1.0 / 6 : 0.0;
     }},
    {"leaky_relu", DPCRT_UNARY_LEAKY_RELU, -5, 5, 0.2, 0, 0, false,
     [](double x, double a, double, double) { return x > 0 ? x : a * x; },
     [](double x, double a, double, double) { return x > 0 ? 1 : a; }},
    {"elu", DPCRT_UNARY_ELU, -10, 5, 1, 1, 1, false,
     [](double x, double a, double s, double i) {
       return x > 0 ? s * x : a * s * (std::exp(i * x) - 1);
     },
     [](double x, double a, double s, double i) {
       return x > 0 ? s : a * s * i * std::exp(i * x);
     }},
    {"elu(1.5, 1.0507, 2)", DPCRT_UNARY_ELU, -10, 5, 1.5, 1.0507, 2, false,
     [](double x, double a, double s, double i) {
       return x > 0 ? s * x : a * s * (std::exp(i * x) - 1);
     },
     [](double x, double a, double s, double i) {
       return x > 0 ? s : a * s * i * std::exp(i * x);
     }},
    {"hardtanh", DPCRT_UNARY_HARDTANH, -3, 3, -1, 1, 0, false,
     [](double x, double lo, double hi, double) {
       return std::min(std::max(x, lo), hi);
     },
     [](double x, double lo, double hi, double) {
       return x <= lo || x >= hi ? 0.0 : 1.0;
     }},
    {"clamp", DPCRT_UNARY_CLAMP, -3, 3, -0.5, 2, 0, false,
     [](double x, double lo, double hi, double) {
       return std::min(std::max(x, lo), hi);
     },
     [](double x, double lo, double hi, double) {
       return x >= lo && x <= hi ? 1.0 : 0.0;
     }},
    {"pow 2.5", DPCRT_UNARY_POW_SCALAR, 0.01, 10, 2.5, 0, 0, false,
     [](double x, double e, double, double) { return std::pow(x, e); },
     [](double x, double e, double, double) { return e * std::pow(x, e - 1); }},
    {"pow 2", DPCRT_UNARY_POW_SCALAR, -10, 10, 2, 0, 0, false,
     [](double x, double e, double, double) { return std::pow(x, e); },
     [](double x, double e, double, double) { return e * std::pow(x, e - 1); }},
    {"pow 3", DPCRT_UNARY_POW_SCALAR, -5, 5, 3, 0, 0, false,
     [](double x, double e, double, double) { return std::pow(x, e); },
     [](double x, double e, double, double) { return e * std::pow(x, e - 1); }},
    {"pow -0.5", DPCRT_UNARY_POW_SCALAR, 0.05, 10, -0.5, 0, 0, false,
     [](double x, double e, double, double) { return std::pow(x, e); },
     [](double x, double e, double, double) { return e * std::pow(x, e - 1); }},
    {"pow 0", DPCRT_UNARY_POW_SCALAR, -5, 5, 0, 0, 0, false,
     [](double, double, double, double) { return 1.0; },
     [](double, double, double, double) { return 0.0; }},
    {"pow -1.3", DPCRT_UNARY_POW_SCALAR, 0.2, 10, -1.3, 0, 0, false,
     [](double x, double e, double, double) { return std::pow(x, e); },
     [](double x, double e, double, double) { return e * std::pow(x, e - 1); }},
    {"pow 1.5", DPCRT_UNARY_POW_SCALAR, 0.01, 10, 1.5, 0, 0, false,
     [](double x, double e, double, double) { return std::pow(x, e); },
     [](double x, double e, double, double) { return e * std::pow(x, e - 1); }},
    {"exp", DPCRT_UNARY_EXP, -20, 10, 0, 0, 0, true,
     [](double x, double, double, double) { return std::exp(x); },
     [](double x, double, double, double) { return std::exp(x); }},
};

TEST_F(CpuKernelsTest, PointwiseKindsAgainstDouble) {
  const int64_t n = 20001;
  for (const PointwiseCase &c : kPointwiseCases) {
    std::vector<float> x(n), y(n), dy(n, 1.0f), dx(n);
    for (int64_t i = 0; i < n; ++i)
      x[i] = float(c.lo + (c.hi - c.lo) * double(i) / double(n - 1));
    dpcrt_unary_params_f32(&ctx, c.kind, y.data(), x.data(), n, c.p0, c.p1,
                           c.p2);
    dpcrt_unary_params_grad_f32(&ctx, c.kind, dx.data(), dy.data(),
                                c.gradFromResult ? y.data() : x.data(), n, c.p0,
                                c.p1, c.p2);
    double maxValue = 0, maxGrad = 0;
    for (int64_t i = 0; i < n; ++i) {
      double xi = x[i];
      double f = c.f(xi, c.p0, c.p1, c.p2), df = c.df(xi, c.p0, c.p1, c.p2);
      maxValue =
          std::max(maxValue, std::fabs(y[i] - f) / std::max(1.0, std::fabs(f)));
      maxGrad = std::max(maxGrad,
                         std::fabs(dx[i] - df) / std::max(1.0, std::fabs(df)));
    }
    std::printf("%-30s max error %.2g, gradient %.2g\n", c.name, maxValue,
                maxGrad);
    EXPECT_LT(maxValue, 1e-6) << c.name;
    EXPECT_LT(maxGrad, 1e-6) << c.name;
  }
  // abs'(0) = 0 and relu6's / hardtanh's gradient is 0 at its bounds, as
  // torch's; clamp passes it at its bounds.
  float zero = 0, one = 1, six = 6, g = 0;
  dpcrt_unary_grad_f32(&ctx, DPCRT_UNARY_ABS, &g, &one, &zero, 1);
  EXPECT_EQ(g, 0.0f);
  dpcrt_unary_params_grad_f32(&ctx, DPCRT_UNARY_HARDTANH, &g, &one, &six, 1, 0,
                              6, 0);
  EXPECT_EQ(g, 0.0f);
  dpcrt_unary_params_grad_f32(&ctx, DPCRT_UNARY_CLAMP, &g, &one, &six, 1, 0, 6,
                              0);
  EXPECT_EQ(g, 1.0f);
  EXPECT_EQ(ctx.error, "");
}

// The kernels split large tensors into threaded chunks and the libmvec
// kinds into blocks with a padded last group: every element must come out
// as it does alone (n = 1), whatever its position, and an output may alias
// its input.
// The bfloat16 nearest to v, found by comparing the two bfloat16 values
// around it in double (a tie goes to the even one): independent of the
// rounding-bias trick the kernels use.
static float nearestBFloat16(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  uint32_t down = bits & 0xFFFF0000u, up = down + 0x10000u;
  float toward, away;
  std::memcpy(&toward, &down, sizeof toward);
  std::memcpy(&away, &up, sizeof away);
  double towardDistance = std::fabs(static_cast<double>(v) - toward);
  double awayDistance = std::fabs(static_cast<double>(away) - v);
  if (towardDistance != awayDistance)
    return towardDistance < awayDistance ? toward : away;
  return (down >> 16) & 1u ? away : toward;
}

/// The rounding kinds (nn.round_bf16, nn.round_f16): each x rounds to
/// `expected` (the sign of zero and NaN included), and so does its gradient
/// (their VJP rounds the gradient the same way).
static void expectRoundsTo(dpcrt_context &ctx, int32_t kind,
                           const std::vector<float> &x,
                           const std::vector<float> &expected) {
  std::vector<float> y(x.size()), dx(x.size());
  dpcrt_unary_f32(&ctx, kind, y.data(), x.data(),
                  static_cast<int64_t>(x.size()));
  dpcrt_unary_grad_f32(&ctx, kind, dx.data(), x.data(), x.data(),
                       static_cast<int64_t>(x.size()));
  ASSERT_EQ(ctx.error, "");
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(y[i]) && std::isnan(dx[i])) << i;
      continue;
    }
    EXPECT_EQ(y[i], expected[i]) << "x = " << x[i];
    EXPECT_EQ(std::signbit(y[i]), std::signbit(expected[i])) << "x = " << x[i];
    EXPECT_EQ(dx[i], expected[i]) << "gradient of " << x[i];
  }
}

// --precision bf16's rounding (nn.round_bf16): to nearest, ties to even, as
// c10::BFloat16, checked against nearestBFloat16 on a sweep, and at the cases
// that matter by value.
TEST_F(CpuKernelsTest, RoundToBFloat16) {
  std::vector<float> x = {
      1.0f + 0x1p-8f,               // tie: down to even 1
      1.0f + 0x1p-7f + 0x1p-8f,     // tie: up to even
      -(1.0f + 0x1p-8f + 0x1p-20f), // above the tie
      3.4e38f,   // beyond the largest bfloat16 and the halfway point
      0x1p-130f, // subnormal, kept
      -0.0f,
      INFINITY,
      NAN};
  std::vector<float> expected = {
      1.0f,      1.0f + 0x1p-6f, -(1.0f + 0x1p-7f), INFINITY,
      0x1p-130f, -0.0f,          INFINITY,          NAN};
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 100.0f);
  for (int i = 0; i < 100000; ++i) {
    float v = normal(rng);
    x.push_back(v);
    expected.push_back(nearestBFloat16(v));
  }
  expectRoundsTo(ctx, DPCRT_UNARY_ROUND_BF16, x, expected);
}

/// The float16 value nearest to v, found without a conversion: every
/// finite float16 value decoded from its bits (sign, 5-bit exponent, 10-bit
/// significand) into double, the two neighbours of v compared, ties to the
/// even significand; beyond the largest (65504) by half an ulp (65520) or
/// more, infinity, as IEEE rounding to nearest. v finite.
static float nearestFloat16(float v) {
  static const std::vector<double> positives = [] {
    std::vector<double> values;
    for (uint32_t bits = 0; bits < 0x7c00u; ++bits) {
      uint32_t exponent = bits >> 10, significand = bits & 0x3ffu;
      values.push_back(exponent == 0 ? std::ldexp(double(significand), -24)
                                     : std::ldexp(double(1024 + significand),
                                                  int(exponent) - 25));
    }
    return values;
  }();
  double magnitude = std::fabs(static_cast<double>(v));
  double result;
  if (magnitude >= 65520.0) {
    result = INFINITY;
  } else {
    auto up = std::lower_bound(positives.begin(), positives.end(), magnitude);
    if (up == positives.end() || *up == magnitude) {
      result = up == positives.end() ? positives.back() : *up;
    } else {
      auto down = up - 1;
      double downDistance = magnitude - *down, upDistance = *up - magnitude;
      bool downEven = ((down - positives.begin()) & 1) == 0;
      result = downDistance < upDistance   ? *down
               : upDistance < downDistance ? *up
               : downEven                  ? *down
                                           : *up;
    }
  }
  return static_cast<float>(std::signbit(v) ? -result : result);
}

// --precision fp16's rounding (nn.round_f16): to nearest, ties to even, as
// c10::Half, checked against nearestFloat16 on a sweep over float16's range
// (subnormals included), and at the cases that matter by value.
TEST_F(CpuKernelsTest, RoundToFloat16) {
  std::vector<float> x = {1.0f + 0x1p-11f,            // tie: down to even 1
                          1.0f + 0x1p-10f + 0x1p-11f, // tie: up to even
                          65504.0f,                   // the largest float16
                          65519.99f, // below the halfway point: 65504
                          65520.0f,  // the halfway point: inf, as PyTorch
                          -1e6f,     // overflow: -inf (what GradScaler sees)
                          0x1p-24f,  // the smallest subnormal
                          0x1p-26f,  // below half of it: 0
                          -0.0f,
                          INFINITY,
                          NAN};
  std::vector<float> expected = {1.0f,     1.0f + 0x1p-9f, 65504.0f, 65504.0f,
                                 INFINITY, -INFINITY,      0x1p-24f, 0.0f,
                                 -0.0f,    INFINITY,       NAN};
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> exponent(-27.0f, 17.0f);
  for (int i = 0; i < 100000; ++i) {
    float v = std::exp2(exponent(rng)) * (i % 2 ? -1.0f : 1.0f);
    x.push_back(v);
    expected.push_back(nearestFloat16(v));
  }
  expectRoundsTo(ctx, DPCRT_UNARY_ROUND_F16, x, expected);
}

// The 16-bit copies of saved activations (nn.pack_saved / unpack_saved):
// packing rounds to the nearest 16-bit value (the references above), and a
// packed value unpacks to exactly that; so a value that is 16-bit already,
// which is all the compiler packs, comes back bit for bit (-0 and inf
// included).
TEST_F(CpuKernelsTest, PackSavedRoundTrips) {
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> exponent(-27.0f, 15.0f);
  std::vector<float> x = {-0.0f, 0.0f, INFINITY, -INFINITY, 1.0f + 0x1p-8f};
  for (int i = 0; i < 100003; ++i) // not a multiple of any vector width
    x.push_back(std::exp2(exponent(rng)) * (i % 2 ? -1.0f : 1.0f));
  const int64_t n = static_cast<int64_t>(x.size());
  struct Kind {
    const char *name;
    void (*pack)(dpcrt_context *, uint16_t *, const float *, int64_t);
    void (*unpack)(dpcrt_context *, float *, const uint16_t *, int64_t);
    float (*nearest)(float);
  };
  for (const Kind &kind :
       {Kind{"bf16", dpcrt_pack_bf16, dpcrt_unpack_bf16, nearestBFloat16},
        Kind{"f16", dpcrt_pack_f16, dpcrt_unpack_f16, nearestFloat16}}) {
    std::vector<uint16_t> packed(n);
    std::vector<float> unpacked(n), repacked(n);
    kind.pack(&ctx, packed.data(), x.data(), n);
    kind.unpack(&ctx, unpacked.data(), packed.data(), n);
    std::vector<float> rounded(n);
    for (int64_t i = 0; i < n; ++i)
      rounded[i] = std::isinf(x[i]) ? x[i] : kind.nearest(x[i]);
    // Round trip of the rounded values: the identity, bit for bit.
    std::vector<uint16_t> packedAgain(n);
    kind.pack(&ctx, packedAgain.data(), rounded.data(), n);
    kind.unpack(&ctx, repacked.data(), packedAgain.data(), n);
    ASSERT_EQ(ctx.error, "");
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(unpacked[i], rounded[i]) << kind.name << " x = " << x[i];
      EXPECT_EQ(std::memcmp(&repacked[i], &rounded[i], sizeof(float)), 0)
          << kind.name << " round trip of " << rounded[i];
    }
  }
}

// GradScaler's unscale (dpc --grad-scaler): every gradient times
// float(1 / double(scale)), the inf check, and the updates of a step with
// an inf skipped (SGD's parameter and momentum buffer untouched).
TEST_F(CpuKernelsTest, UnscaleGradsAndSkippedUpdate) {
  ctx.gradScaler.enabled = true;
  ctx.gradScaler.scale = 3.0f; // not a power of two: the rounding shows
  std::vector<float> g0 = {3.0f, -6.0f, 1.0f}, g1 = {0.5f};
  float *grads[] = {g0.data(), g1.data()};
  int64_t sizes[] = {3, 1};
  dpcrt_unscale_grads_f32(&ctx, grads, sizes, 2);
  ASSERT_EQ(ctx.error, "");
  float inv = static_cast<float>(1.0 / 3.0);
  EXPECT_EQ(g0[0], 3.0f * inv);
  EXPECT_EQ(g0[1], -6.0f * inv);
  EXPECT_EQ(g0[2], 1.0f * inv);
  EXPECT_EQ(g1[0], 0.5f * inv);
  EXPECT_FALSE(ctx.gradScaler.foundInf);

  std::vector<float> g2 = {1.0f, INFINITY}, g3 = {NAN};
  float *bad[] = {g2.data(), g3.data()};
  int64_t badSizes[] = {2, 1};
  dpcrt_unscale_grads_f32(&ctx, bad, badSizes, 2);
  EXPECT_TRUE(ctx.gradScaler.foundInf);
  std::vector<float> param = {1.0f, 2.0f}, momentum = {5.0f, 6.0f};
  dpcrt_sgd_update_f32(&ctx, param.data(), momentum.data(), g2.data(), 2, 0.1f,
                       0.9f, 0.0f, 0.0f, 0);
  EXPECT_EQ(param, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(momentum, (std::vector<float>{5.0f, 6.0f}));
  ctx.gradScaler = dpc::GradScalerState();
  ctx.gradientSquares = dpc::GradientSquares();
}

// tanh's gradient as torch's AVX2 tanh_backward computes it (1.13 and 2.5,
// checked bitwise on 1M values): dy * (1 - y*y) with 1 - y*y rounded once
// (a fused multiply-add), here 1 - y*y in double, exact for these y, then
// rounded. Over the threading threshold, so every chunk is checked.
TEST_F(CpuKernelsTest, TanhGradFusesAsTorch) {
  const int64_t n = 100003;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> unit(-0.999f, 0.999f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> y(n), dy(n), dx(n);
  for (int64_t i = 0; i < n; ++i) {
    y[i] = unit(rng);
    dy[i] = normal(rng);
  }
  dpcrt_unary_grad_f32(&ctx, DPCRT_UNARY_TANH, dx.data(), dy.data(), y.data(),
                       n);
  ASSERT_EQ(ctx.error, "");
  int64_t unfusedDiffers = 0;
  for (int64_t i = 0; i < n; ++i) {
    float inner = static_cast<float>(1.0 - double(y[i]) * double(y[i]));
    ASSERT_EQ(dx[i], dy[i] * inner) << "y = " << y[i] << ", dy = " << dy[i];
    unfusedDiffers += dx[i] != dy[i] * (1.0f - y[i] * y[i]);
  }
  // The check tells the two apart: the unfused formula differs often.
  EXPECT_GT(unfusedDiffers, n / 10);
}

TEST_F(CpuKernelsTest, UnaryKindsThreadedMatchElementwise) {
  const int64_t n = 200003; // above the threading threshold, odd
  for (const PointwiseCase &c : kPointwiseCases) {
    SCOPED_TRACE(c.name);
    std::vector<float> x(n), y(n), dy(n), dx(n);
    for (int64_t i = 0; i < n; ++i) {
      x[i] = float(c.lo + (c.hi - c.lo) * double((i * 7919) % n) / double(n));
      dy[i] = 0.5f + float(i % 13) / 8;
    }
    dpcrt_unary_params_f32(&ctx, c.kind, y.data(), x.data(), n, c.p0, c.p1,
                           c.p2);
    const std::vector<float> &saved = c.gradFromResult ? y : x;
    dpcrt_unary_params_grad_f32(&ctx, c.kind, dx.data(), dy.data(),
                                saved.data(), n, c.p0, c.p1, c.p2);
    int64_t mismatches = 0;
    for (int64_t i = 0; i < n; i += 97) {
      float one = 0, grad = 0;
      dpcrt_unary_params_f32(&ctx, c.kind, &one, &x[i], 1, c.p0, c.p1, c.p2);
      dpcrt_unary_params_grad_f32(&ctx, c.kind, &grad, &dy[i], &saved[i], 1,
                                  c.p0, c.p1, c.p2);
      // oneDNN's kinds: its jitted tail may round differently from its
      // vector body, within the accuracy of PointwiseKindsAgainstDouble.
      double tol = 1e-6 * std::max(1.0f, std::fabs(one));
      double gradTol = 1e-6 * std::max(1.0f, std::fabs(grad));
      mismatches += std::fabs(y[i] - one) > tol;
      mismatches += std::fabs(dx[i] - grad) > gradTol;
    }
    EXPECT_EQ(mismatches, 0);
    // In place: out == in, dx == dy.
    std::vector<float> inPlace = x, gradInPlace = dy;
    dpcrt_unary_params_f32(&ctx, c.kind, inPlace.data(), inPlace.data(), n,
                           c.p0, c.p1, c.p2);
    EXPECT_EQ(inPlace, y);
    dpcrt_unary_params_grad_f32(&ctx, c.kind, gradInPlace.data(),
                                gradInPlace.data(), saved.data(), n, c.p0, c.p1,
                                c.p2);
    EXPECT_EQ(gradInPlace, dx);
  }
  EXPECT_EQ(ctx.error, "");
}

TEST_F(CpuKernelsTest, WhereSelectsByMask) {
  std::vector<float> mask = {1, 0, 0, 1, 1}, a = {1, 2, 3, 4, 5},
                     b = {-1, -2, -3, -4, -5}, out(5);
  dpcrt_where_f32(&ctx, out.data(), mask.data(), a.data(), b.data(), 5);
  EXPECT_EQ(out, (std::vector<float>{1, -2, -3, 4, 5}));
  EXPECT_EQ(ctx.error, "");
}

//===----------------------------------------------------------------------===//
// int64 to float32, gather, scatter_add
//===----------------------------------------------------------------------===//

TEST_F(CpuKernelsTest, ConvertI64RoundsToNearestEven) {
  // Exact up to 2^24; above, to the nearest float, ties to even (torch's
  // .float() on CPU is the same C++ conversion).
  const int64_t big = int64_t(1) << 24;
  std::vector<int64_t> in = {0,       1,        -7,        big,      big + 1,
                             big + 3, -big - 1, INT64_MIN, INT64_MAX};
  std::vector<float> out(in.size());
  dpcrt_convert_i64_f32(&ctx, out.data(), in.data(), in.size());
  EXPECT_EQ(out, (std::vector<float>{0.0f, 1.0f, -7.0f, 16777216.0f,
                                     16777216.0f, 16777220.0f, -16777216.0f,
                                     -9223372036854775808.0f,
                                     9223372036854775808.0f}));
  // Enough elements for the threaded path: every chunk converts its part.
  const int64_t n = 300000;
  std::vector<int64_t> many(n);
  std::mt19937_64 gen(5);
  for (int64_t &v : many)
    v = static_cast<int64_t>(gen() >> 20) - (int64_t(1) << 43);
  std::vector<float> got(n);
  dpcrt_convert_i64_f32(&ctx, got.data(), many.data(), n);
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], static_cast<float>(many[i])) << "at " << i;
  EXPECT_EQ(ctx.error, "");
}

/// Random indices in [0, limit) (repeats included).
std::vector<int64_t> randomIndices(size_t n, unsigned seed, int64_t limit) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int64_t> pick(0, limit - 1);
  std::vector<int64_t> v(n);
  for (int64_t &x : v)
    x = pick(gen);
  return v;
}

TEST_F(CpuKernelsTest, GatherPicksAlongTheDimension) {
  // input [3, 5, 4], index and out [3, 2, 4] (a middle dimension).
  const int64_t outer = 3, inputDim = 5, indexDim = 2, inner = 4;
  std::vector<float> input = randomVector(outer * inputDim * inner, 21);
  std::vector<int64_t> index =
      randomIndices(outer * indexDim * inner, 22, inputDim);
  std::vector<float> out(index.size());
  dpcrt_gather_f32(&ctx, out.data(), input.data(), index.data(), outer,
                   inputDim, indexDim, inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < indexDim; ++j)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t at = (o * indexDim + j) * inner + i;
        EXPECT_EQ(out[at], input[(o * inputDim + index[at]) * inner + i])
            << o << "," << j << "," << i;
      }
  EXPECT_EQ(ctx.error, "");
}

/// scatter_add's reference: a copy, then the additions in torch's order.
std::vector<float> scatterAddReference(const std::vector<float> &input,
                                       const std::vector<int64_t> &index,
                                       const std::vector<float> &src,
                                       int64_t outer, int64_t outDim,
                                       int64_t indexDim, int64_t inner) {
  std::vector<float> out = input;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < indexDim; ++j)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t at = (o * indexDim + j) * inner + i;
        out[(o * outDim + index[at]) * inner + i] += src[at];
      }
  return out;
}

TEST_F(CpuKernelsTest, ScatterAddAddsInOrder) {
  struct Case {
    int64_t outer, outDim, indexDim, inner;
  };
  // A middle dimension with repeats, the first (outer 1), the last (inner
  // 1), and enough lines for the threaded path (split mid-row).
  const Case cases[] = {{3, 5, 7, 4},
                        {1, 6, 9, 3},
                        {4, 3, 8, 1},
                        {3, 4, 5, 50001},
                        {70001, 2, 3, 1}};
  unsigned seed = 30;
  for (const Case &c : cases) {
    SCOPED_TRACE(std::to_string(c.outer) + "x" + std::to_string(c.outDim) +
                 "x" + std::to_string(c.inner) + " index dim " +
                 std::to_string(c.indexDim));
    std::vector<float> input =
        randomVector(c.outer * c.outDim * c.inner, ++seed);
    std::vector<int64_t> index =
        randomIndices(c.outer * c.indexDim * c.inner, ++seed, c.outDim);
    std::vector<float> src = randomVector(index.size(), ++seed);
    std::vector<float> want = scatterAddReference(
        input, index, src, c.outer, c.outDim, c.indexDim, c.inner);
    std::vector<float> out(input.size(), NAN);
    dpcrt_scatter_add_f32(&ctx, out.data(), input.data(), index.data(),
                          src.data(), c.outer, c.outDim, c.indexDim, c.inner);
    EXPECT_EQ(out, want); // bit for bit: the same additions in one order
    // In place (out == input), as the kernel allows.
    dpcrt_scatter_add_f32(&ctx, input.data(), input.data(), index.data(),
                          src.data(), c.outer, c.outDim, c.indexDim, c.inner);
    EXPECT_EQ(input, want);
  }
  EXPECT_EQ(ctx.error, "");
}

TEST_F(CpuKernelsTest, GatherAndScatterAddRejectIndicesOutOfRange) {
  std::vector<float> input = randomVector(6, 40), out(4), src(4, 1.0f);
  std::vector<int64_t> index = {0, 2, 3, 1};
  // [2, 3, 1] gathered by [2, 2, 1]: 3 is not below 3.
  dpcrt_gather_f32(&ctx, out.data(), input.data(), index.data(), 2, 3, 2, 1);
  EXPECT_EQ(ctx.error, "gather: index 3 at position 2 is out of range [0, 3)");
  for (float v : out)
    EXPECT_TRUE(std::isnan(v));
  ctx.error.clear();
  index[2] = -1;
  std::vector<float> sum(6);
  dpcrt_scatter_add_f32(&ctx, sum.data(), input.data(), index.data(),
                        src.data(), 2, 3, 2, 1);
  EXPECT_EQ(ctx.error,
            "scatter_add: index -1 at position 2 is out of range [0, 3)");
  for (float v : sum)
    EXPECT_TRUE(std::isnan(v));
}

TEST_F(CpuKernelsTest, MaximumMinimumPropagateNaN) {
  float a[3] = {1.0f, NAN, 2.0f}, b[3] = {NAN, 1.0f, -3.0f}, out[3];
  int64_t dims[] = {3, 1, 1};
  dpcrt_binary_f32(&ctx, DPCRT_BINARY_MAXIMUM, out, a, b, 1, dims, 1.0f);
  EXPECT_TRUE(std::isnan(out[0]) && std::isnan(out[1]));
  EXPECT_EQ(out[2], 2.0f);
  dpcrt_binary_f32(&ctx, DPCRT_BINARY_MINIMUM, out, a, b, 1, dims, 1.0f);
  EXPECT_TRUE(std::isnan(out[0]) && std::isnan(out[1]));
  EXPECT_EQ(out[2], -3.0f);
  EXPECT_EQ(ctx.error, "");
}

TEST_F(CpuKernelsTest, UnaryRefusesUnknownKind) {
  float x = 1, y = 0;
  dpcrt_unary_f32(&ctx, DPCRT_UNARY_KIND_END, &y, &x, 1);
  EXPECT_EQ(ctx.error,
            "unary: unknown kind " + std::to_string(int(DPCRT_UNARY_KIND_END)));
}

TEST_F(CpuKernelsTest, ReluPropagatesNaN) {
  float x = NAN, y = 0, dy = 7, dx = 0;
  dpcrt_unary_f32(&ctx, DPCRT_UNARY_RELU, &y, &x, 1);
  EXPECT_TRUE(std::isnan(y));
  dpcrt_unary_grad_f32(&ctx, DPCRT_UNARY_RELU, &dx, &dy, &x, 1);
  EXPECT_EQ(dx, 7.0f); // threshold_backward keeps dy where x <= 0 is false
}

TEST_F(CpuKernelsTest, UnknownKindsAreRecorded) {
  float v = 1;
  dpcrt_unary_f32(&ctx, 42, &v, &v, 1);
  EXPECT_EQ(ctx.error, "unary: unknown kind 42");
  ctx.error.clear();
  int64_t dims[] = {0};
  dpcrt_binary_f32(&ctx, 9, &v, &v, &v, 0, dims, 1.0f);
  EXPECT_EQ(ctx.error, "binary: unknown kind 9");
}

/// Naive broadcasting reference: walks every output index.
std::vector<double> naiveBinary(int kind, const std::vector<float> &a,
                                const std::vector<float> &b,
                                const std::vector<int64_t> &shape,
                                const std::vector<int64_t> &sa,
                                const std::vector<int64_t> &sb, float alpha) {
  int64_t total = dpc::numElements(shape);
  std::vector<double> out(total);
  for (int64_t linear = 0; linear < total; ++linear) {
    int64_t rest = linear, ia = 0, ib = 0;
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
      int64_t i = rest % shape[d];
      rest /= shape[d];
      ia += i * sa[d];
      ib += i * sb[d];
    }
    float x = a[ia], y = b[ib];
    switch (kind) {
    case DPCRT_BINARY_ADD:
      out[linear] = x + alpha * y;
      break;
    case DPCRT_BINARY_SUB:
      out[linear] = x - alpha * y;
      break;
    case DPCRT_BINARY_MUL:
      out[linear] = x * y;
      break;
    case DPCRT_BINARY_DIV:
      out[linear] = x / y;
      break;
    case DPCRT_BINARY_MAXIMUM:
      out[linear] = std::max(x, y);
      break;
    case DPCRT_BINARY_MINIMUM:
      out[linear] = std::min(x, y);
      break;
    case DPCRT_BINARY_POW:
      out[linear] = std::pow(double(x), double(y));
      break;
    }
  }
  return out;
}

TEST_F(CpuKernelsTest, BinaryBroadcasting) {
  struct Case {
    std::vector<int64_t> shape, sa, sb;
    size_t na, nb;
  };
  std::vector<Case> cases = {
      // [2,3,4] + [2,3,4]
      {{2, 3, 4}, {12, 4, 1}, {12, 4, 1}, 24, 24},
      // [2,3,4] + [3,1]: b broadcast along dims 0 and 2
      {{2, 3, 4}, {12, 4, 1}, {0, 1, 0}, 24, 3},
      // [2,1,4] (stride 0 on dim 1) * [1,3,1]
      {{2, 3, 4}, {4, 0, 1}, {0, 1, 0}, 8, 3},
      // [5] with a scalar b (every stride 0)
      {{5}, {1}, {0}, 5, 1},
      // [4,3] + [3]^T-like: innermost dim broadcast on a
      {{4, 3}, {1, 0}, {3, 1}, 4, 12},
  };
  for (int kind = DPCRT_BINARY_ADD; kind <= DPCRT_BINARY_POW; ++kind)
    for (const Case &c : cases) {
      std::vector<float> a = randomVector(c.na, 11, 0.5f, 2.0f);
      std::vector<float> b = randomVector(c.nb, 13, 0.5f, 2.0f);
      std::vector<int64_t> dims = c.shape;
      dims.insert(dims.end(), c.sa.begin(), c.sa.end());
      dims.insert(dims.end(), c.sb.begin(), c.sb.end());
      std::vector<float> out(dpc::numElements(c.shape));
      dpcrt_binary_f32(&ctx, kind, out.data(), a.data(), b.data(),
                       static_cast<int32_t>(c.shape.size()), dims.data(),
                       0.75f);
      SCOPED_TRACE("kind " + std::to_string(kind) + " shape " +
                   dpc::formatShape(c.shape));
      // powf is within an ulp of the exact power, the others exact.
      expectNear(out, naiveBinary(kind, a, b, c.shape, c.sa, c.sb, 0.75f),
                 kind == DPCRT_BINARY_POW ? 1e-6 : 1e-7);
    }
  EXPECT_EQ(ctx.error, "");
}

TEST_F(CpuKernelsTest, BinaryRankZeroAndEmpty) {
  float a = 3, b = 4, out = 0;
  dpcrt_binary_f32(&ctx, DPCRT_BINARY_SUB, &out, &a, &b, 0, nullptr, 0.5f);
  EXPECT_EQ(out, 1.0f);
  int64_t dims[] = {2, 0, 0, 1, 0, 1};
  out = 42;
  dpcrt_binary_f32(&ctx, DPCRT_BINARY_ADD, &out, &a, &b, 2, dims, 1.0f);
  EXPECT_EQ(out, 42.0f); // no elements: nothing written
}

TEST_F(CpuKernelsTest, ReduceSum) {
  std::vector<float> in = randomVector(24, 17); // [2, 3, 4]
  auto at = [&](int i, int j, int k) { return double(in[i * 12 + j * 4 + k]); };

  // [2,3,4] -> [3] (strides in input coordinates: 0, 1, 0)
  std::vector<int64_t> dims1 = {2, 3, 4, 0, 1, 0};
  std::vector<float> out1(3, NAN);
  dpcrt_reduce_sum_f32(&ctx, out1.data(), in.data(), 3, dims1.data(), 3);
  std::vector<double> want1(3, 0.0);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        want1[j] += at(i, j, k);
  expectNear(out1, want1, 1e-6);

  // [2,3,4] -> [2,1,4]
  std::vector<int64_t> dims2 = {2, 3, 4, 4, 0, 1};
  std::vector<float> out2(8, NAN);
  dpcrt_reduce_sum_f32(&ctx, out2.data(), in.data(), 3, dims2.data(), 8);
  std::vector<double> want2(8, 0.0);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        want2[i * 4 + k] += at(i, j, k);
  expectNear(out2, want2, 1e-6);

  // Everything -> a scalar; and the identity reduction.
  std::vector<int64_t> dims3 = {2, 3, 4, 0, 0, 0};
  std::vector<float> out3(1, NAN);
  dpcrt_reduce_sum_f32(&ctx, out3.data(), in.data(), 3, dims3.data(), 1);
  double total = 0;
  for (float v : in)
    total += v;
  expectNear(out3, {total}, 1e-6);
  std::vector<int64_t> dims4 = {2, 3, 4, 12, 4, 1};
  std::vector<float> out4(24);
  dpcrt_reduce_sum_f32(&ctx, out4.data(), in.data(), 3, dims4.data(), 24);
  EXPECT_EQ(out4, in);

  // Rank 0 copies; an empty input gives zeros.
  float scalar = 5, sOut = 0;
  dpcrt_reduce_sum_f32(&ctx, &sOut, &scalar, 0, nullptr, 1);
  EXPECT_EQ(sOut, 5.0f);
  std::vector<int64_t> dims5 = {0, 3, 0, 1};
  std::vector<float> out5(3, NAN);
  dpcrt_reduce_sum_f32(&ctx, out5.data(), nullptr, 2, dims5.data(), 3);
  EXPECT_EQ(out5, std::vector<float>(3, 0.0f));
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

TEST_F(CpuKernelsTest, CrossEntropyHandComputed) {
  // Same numbers as torch.nn.functional.cross_entropy(
  //   [[1, 2, 3], [1, 1, 1]], [2, 0]) = 0.7531090974807739.
  std::vector<float> logits = {1, 2, 3, 1, 1, 1};
  std::vector<int64_t> labels = {2, 0};
  float loss = 0;
  dpcrt_cross_entropy_f32(&ctx, &loss, logits.data(), labels.data(), 2, 3);
  EXPECT_FLOAT_EQ(loss, 0.7531090974807739f);

  float dloss = 1.0f;
  std::vector<float> grad(6);
  dpcrt_cross_entropy_grad_f32(&ctx, grad.data(), &dloss, logits.data(),
                               labels.data(), 2, 3);
  double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
  double z = e1 + e2 + e3;
  expectNear(
      grad,
      {e1 / z / 2, e2 / z / 2, (e3 / z - 1) / 2, -1.0 / 3, 1.0 / 6, 1.0 / 6},
      1e-7);
  EXPECT_EQ(ctx.error, "");
}

TEST_F(CpuKernelsTest, CrossEntropyIsStableForLargeLogits) {
  std::vector<float> logits = {1000, 0, -1000};
  int64_t label = 1;
  float loss = 0;
  dpcrt_cross_entropy_f32(&ctx, &loss, logits.data(), &label, 1, 3);
  EXPECT_FLOAT_EQ(loss, 1000.0f);
  float dloss = 2.0f;
  std::vector<float> grad(3);
  dpcrt_cross_entropy_grad_f32(&ctx, grad.data(), &dloss, logits.data(), &label,
                               1, 3);
  EXPECT_EQ(grad, (std::vector<float>{2, -2, 0}));
}

TEST_F(CpuKernelsTest, CrossEntropyGradMatchesFiniteDifferences) {
  const int64_t n = 4, c = 5;
  std::vector<float> logits = randomVector(n * c, 23, -2.0f, 2.0f);
  std::vector<int64_t> labels = {0, 4, 2, 2};
  float dloss = 0.7f;
  std::vector<float> grad(n * c);
  dpcrt_cross_entropy_grad_f32(&ctx, grad.data(), &dloss, logits.data(),
                               labels.data(), n, c);
  // Central differences of a double-precision loss.
  auto lossAt = [&](const std::vector<double> &x) {
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      double max = x[i * c];
      for (int64_t j = 1; j < c; ++j)
        max = std::max(max, x[i * c + j]);
      double sum = 0;
      for (int64_t j = 0; j < c; ++j)
        sum += std::exp(x[i * c + j] - max);
      total += -(x[i * c + labels[i]] - max - std::log(sum));
    }
    return total / n;
  };
  std::vector<double> x(logits.begin(), logits.end());
  const double h = 1e-5;
  for (int64_t i = 0; i < n * c; ++i) {
    std::vector<double> up = x, down = x;
    up[i] += h;
    down[i] -= h;
    double fd = dloss * (lossAt(up) - lossAt(down)) / (2 * h);
    EXPECT_NEAR(grad[i], fd, 1e-6) << "at " << i;
  }
}

TEST_F(CpuKernelsTest, CrossEntropyRejectsBadLabels) {
  std::vector<float> logits = {1, 2, 3, 4};
  std::vector<int64_t> labels = {1, 2};
  float loss = 0;
  dpcrt_cross_entropy_f32(&ctx, &loss, logits.data(), labels.data(), 2, 2);
  EXPECT_TRUE(std::isnan(loss));
  EXPECT_EQ(ctx.error,
            "cross_entropy: label 2 of sample 1 is out of range [0, 2)");
}

TEST_F(CpuKernelsTest, MseAndGrad) {
  std::vector<float> pred = {1, 2, 3, 4}, target = {0, 2, 5, 3.5f};
  float loss = 0;
  dpcrt_mse_loss_f32(&ctx, &loss, pred.data(), target.data(), 4);
  EXPECT_FLOAT_EQ(loss, (1 + 0 + 4 + 0.25f) / 4);

  float dloss = 3.0f;
  std::vector<float> grad(4);
  dpcrt_mse_loss_grad_f32(&ctx, grad.data(), &dloss, pred.data(), target.data(),
                          4);
  expectNear(grad, {1.5, 0, -3, 0.75}, 1e-7);

  // Finite differences on random data.
  std::vector<float> p = randomVector(6, 29), t = randomVector(6, 31);
  std::vector<float> g(6);
  dpcrt_mse_loss_grad_f32(&ctx, g.data(), &dloss, p.data(), t.data(), 6);
  for (int i = 0; i < 6; ++i) {
    const double h = 1e-4;
    auto l = [&](double delta) {
      double s = 0;
      for (int j = 0; j < 6; ++j) {
        double d = p[j] + (j == i ? delta : 0.0) - t[j];
        s += d * d;
      }
      return s / 6;
    };
    EXPECT_NEAR(g[i], dloss * (l(h) - l(-h)) / (2 * h), 1e-6);
  }
}

//===----------------------------------------------------------------------===//
// SGD
//===----------------------------------------------------------------------===//

/// Two steps of one parameter p = 1 with gradients 0.5 then -0.25, lr 0.1,
/// weight decay 0.01. Expected values are torch.optim.SGD's (checked with
/// torch 1.13), and by hand for momentum 0.9, dampening 0.1:
///   step 1: d = 0.5 + 0.01 * 1 = 0.51; buf = d; p = 1 - 0.051 = 0.949
///   step 2: d = -0.25 + 0.00949 = -0.24051;
///           buf = 0.9 * 0.51 + 0.9 * d = 0.242541; p = 0.949 - 0.0242541
struct SgdCase {
  const char *name;
  float momentum, dampening;
  int nesterov;
  float afterStep1, afterStep2;
};

TEST_F(CpuKernelsTest, SgdTwoStepsMatchTorch) {
  SgdCase cases[] = {
      {"plain", 0.0f, 0.0f, 0, 0.949f, 0.973051f},
      {"momentum", 0.9f, 0.1f, 0, 0.949f, 0.9247459f},
      {"nesterov", 0.9f, 0.0f, 1, 0.9031f, 0.90757411f},
  };
  for (const SgdCase &c : cases) {
    SCOPED_TRACE(c.name);
    dpcrt_context local;
    float p = 1.0f, buf = 123.0f; // garbage: the first step must overwrite it
    float g1 = 0.5f, g2 = -0.25f;
    float *bufPtr = c.momentum != 0.0f ? &buf : nullptr;
    dpcrt_sgd_update_f32(&local, &p, bufPtr, &g1, 1, 0.1f, c.momentum,
                         c.dampening, 0.01f, c.nesterov);
    EXPECT_NEAR(p, c.afterStep1, 1e-7);
    local.step = 1;
    dpcrt_sgd_update_f32(&local, &p, bufPtr, &g2, 1, 0.1f, c.momentum,
                         c.dampening, 0.01f, c.nesterov);
    EXPECT_NEAR(p, c.afterStep2, 1e-7);
    EXPECT_EQ(local.error, "");
  }
}

TEST_F(CpuKernelsTest, SgdWithoutBufferIsAnError) {
  float p = 1, g = 1;
  dpcrt_sgd_update_f32(&ctx, &p, nullptr, &g, 1, 0.1f, 0.9f, 0, 0, 0);
  EXPECT_NE(ctx.error.find("no momentum buffer"), std::string::npos);
  EXPECT_EQ(p, 1.0f);
}

//===----------------------------------------------------------------------===//
// Collectives on one rank
//===----------------------------------------------------------------------===//

TEST_F(CpuKernelsTest, AllreduceOnOneRankIsIdentity) {
  std::vector<float> v = {1, 2, 3};
  int64_t h = dpcrt_allreduce_start(&ctx, 0, v.data(), 3);
  dpcrt_allreduce_wait(&ctx, h);
  EXPECT_EQ(v, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(ctx.error, "");
}

TEST_F(CpuKernelsTest, CompressedAllreduceOnOneRankRoundsTo16Bits) {
  // DDP runs its compression hook on one rank too: the bucket comes back
  // rounded to nearest even, as torch's .to(float16 / bfloat16) rounds.
  // 1 + 2^-11 is halfway between two halves (ties to even: 1) and
  // 1 + 3 * 2^-11 rounds up to 1 + 2^-9; bfloat16 keeps 8 bits, so
  // 1 + 2^-8 (halfway) goes to 1 and 1 + 3 * 2^-8 to 1 + 2^-6.
  // 70000 overflows a half (inf) and 1e-8 underflows it (0).
  std::vector<float> half = {1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 70000.0f, 1e-8f,
                             -2.5f};
  dpcrt_allreduce_wait(&ctx, dpcrt_allreduce_start_compressed(
                                 &ctx, 0, half.data(), 5, DPCRT_GRAD_COMM_F16));
  EXPECT_EQ(half, (std::vector<float>{1, 1 + 0x1p-9f, INFINITY, 0, -2.5f}));
  std::vector<float> bf16 = {1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 70000.0f, -2.5f};
  dpcrt_allreduce_wait(&ctx,
                       dpcrt_allreduce_start_compressed(&ctx, 0, bf16.data(), 4,
                                                        DPCRT_GRAD_COMM_BF16));
  EXPECT_EQ(bf16, (std::vector<float>{1, 1 + 0x1p-6f, 70144.0f, -2.5f}));
  EXPECT_EQ(ctx.error, "");
}

TEST_F(CpuKernelsTest, CompressionDividesIn16Bits) {
  // fp16_compress_hook: bucket.to(float16).div_(world_size), the quotient
  // rounded again. 2049 is not a half (it rounds to 2048), and 2048 / 3 =
  // 682.67 rounds to the half 682.5.
  float data[] = {2049.0f, 1.0f};
  uint16_t out[2];
  dpc::compressGradients(DPCRT_GRAD_COMM_F16, data, 2, 3, out);
  EXPECT_EQ(dpc::halfBitsToFloat(out[0]), 682.5f);
  EXPECT_EQ(dpc::halfBitsToFloat(out[1]),
            static_cast<float>(static_cast<_Float16>(1.0f / 3)));
  float back[2];
  dpc::decompressGradients(DPCRT_GRAD_COMM_F16, out, 2, back);
  EXPECT_EQ(back[0], 682.5f);
}

TEST_F(CpuKernelsTest, UnknownGradCommIsAnError) {
  float v = 1;
  EXPECT_EQ(dpcrt_allreduce_start_compressed(&ctx, 3, &v, 1, 7), 0);
  EXPECT_NE(ctx.error.find("bucket 3: unknown communication type 7"),
            std::string::npos);
}

} // namespace
