//===- f64_kernels_test.cpp - float64 CPU kernels against long double -----===//
//
// Every _f64 kernel of kernels.def on the CPU backend, against a
// straightforward reference computed here in long double (the mathematical
// formula, or torch's algorithm for the optimizers and clipping), to 1e-13
// relative: a kernel that computed in float32 anywhere would be off by
// about 1e-8, so the inputs are ordinary random doubles (53-bit mantissas,
// which float32 cannot hold) and a few exact cases pin values like
// 1 + 1e-10 that float32 rounds to 1. Each comparison prints its measured
// maximum relative error.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

using LD = long double;

constexpr double kTol = 1e-13;

/// Uniform in +-[lo, hi] (a random sign unless `positive`): no zeros, so no
/// kink of ReLU, abs or the clamps is hit.
std::vector<double> randomDoubles(size_t n, unsigned seed, double lo = 0.1,
                                  double hi = 2.0, bool positive = false) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> magnitude(lo, hi);
  std::bernoulli_distribution negative(0.5);
  std::vector<double> v(n);
  for (double &x : v) {
    double m = magnitude(gen);
    x = !positive && negative(gen) ? -m : m;
  }
  return v;
}

/// The largest |got - want| / |want| over the elements. Where a result
/// cancels (a sum of terms of both signs), `magnitudes` holds the size of
/// its terms (the sum of their absolute values), and the denominator is that
/// instead: the error that double arithmetic makes in such an element is
/// relative to its terms, not to the small difference. Every denominator is
/// also floored at 1e-6 of the largest |want|. NaNs must match.
double maxRelError(const std::vector<double> &got, const std::vector<LD> &want,
                   const std::vector<LD> &magnitudes = {}) {
  EXPECT_EQ(got.size(), want.size());
  LD scale = 0;
  for (LD w : want)
    if (!std::isnan(w))
      scale = std::max(scale, std::fabs(w));
  double worst = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (std::isnan(want[i]) || std::isnan(got[i])) {
      EXPECT_EQ(std::isnan(want[i]), std::isnan(got[i])) << "at " << i;
      continue;
    }
    LD denominator = std::max(std::fabs(want[i]), scale * 1e-6L);
    if (i < magnitudes.size())
      denominator = std::max(denominator, magnitudes[i]);
    if (denominator == 0) {
      EXPECT_EQ(got[i], 0.0) << "at " << i;
      continue;
    }
    worst = std::max(
        worst, static_cast<double>(std::fabs(got[i] - want[i]) / denominator));
  }
  return worst;
}

void expectClose(const std::string &what, const std::vector<double> &got,
                 const std::vector<LD> &want, double tol = kTol,
                 const std::vector<LD> &magnitudes = {}) {
  double error = maxRelError(got, want, magnitudes);
  std::printf("[ f64      ] %-36s max rel error %.2e\n", what.c_str(), error);
  EXPECT_LE(error, tol) << what;
}

void expectClose(const std::string &what, double got, LD want,
                 double tol = kTol) {
  expectClose(what, std::vector<double>{got}, std::vector<LD>{want}, tol);
}

LD sigmoid(LD x) { return 1 / (1 + std::exp(-x)); }

class F64KernelsTest : public ::testing::Test {
protected:
  dpcrt_context ctx;

  void TearDown() override { EXPECT_EQ(ctx.error, ""); }
};

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

TEST_F(F64KernelsTest, FillScaleDivScalar) {
  // float32 would round 1 + 1e-10 to 1.
  std::vector<double> v(5);
  dpcrt_fill_f64(&ctx, v.data(), 5, 1 + 1e-10);
  for (double x : v)
    EXPECT_EQ(x, 1 + 1e-10);
  std::vector<double> in = randomDoubles(37, 1), out(37);
  dpcrt_scale_f64(&ctx, out.data(), in.data(), 37, 1 + 1e-10);
  std::vector<LD> want(37);
  for (size_t i = 0; i < in.size(); ++i)
    want[i] = in[i] * (1 + LD(1e-10));
  expectClose("scale", out, want);
  dpcrt_div_scalar_f64(&ctx, out.data(), in.data(), 37, 3 + 1e-10);
  for (size_t i = 0; i < in.size(); ++i)
    want[i] = in[i] / (3 + LD(1e-10));
  expectClose("div_scalar", out, want);
  // In place.
  dpcrt_div_scalar_f64(&ctx, in.data(), in.data(), 37, 3 + 1e-10);
  expectClose("div_scalar in place", in, want);
}

struct UnaryCase {
  const char *name;
  int32_t kind;
  double p0, p1, p2;
  bool positive; // the kind's domain is x > 0
};

const UnaryCase kUnaryCases[] = {
    {"relu", DPCRT_UNARY_RELU, 0, 0, 0, false},
    {"tanh", DPCRT_UNARY_TANH, 0, 0, 0, false},
    {"sigmoid", DPCRT_UNARY_SIGMOID, 0, 0, 0, false},
    {"neg", DPCRT_UNARY_NEG, 0, 0, 0, false},
    {"exp", DPCRT_UNARY_EXP, 0, 0, 0, false},
    {"log", DPCRT_UNARY_LOG, 0, 0, 0, true},
    {"log1p", DPCRT_UNARY_LOG1P, 0, 0, 0, true},
    {"sqrt", DPCRT_UNARY_SQRT, 0, 0, 0, true},
    {"rsqrt", DPCRT_UNARY_RSQRT, 0, 0, 0, true},
    {"abs", DPCRT_UNARY_ABS, 0, 0, 0, false},
    {"reciprocal", DPCRT_UNARY_RECIPROCAL, 0, 0, 0, false},
    {"sin", DPCRT_UNARY_SIN, 0, 0, 0, false},
    {"cos", DPCRT_UNARY_COS, 0, 0, 0, false},
    {"erf", DPCRT_UNARY_ERF, 0, 0, 0, false},
    {"silu", DPCRT_UNARY_SILU, 0, 0, 0, false},
    // threshold 1.5 with beta 1.3: both branches
    {"softplus", DPCRT_UNARY_SOFTPLUS, 1.3, 1.5, 0, false},
    {"mish", DPCRT_UNARY_MISH, 0, 0, 0, false},
    {"hardswish", DPCRT_UNARY_HARDSWISH, 0, 0, 0, false},
    {"hardsigmoid", DPCRT_UNARY_HARDSIGMOID, 0, 0, 0, false},
    // 0.01 is not a float: the slope must stay a double
    {"leaky_relu", DPCRT_UNARY_LEAKY_RELU, 0.01, 0, 0, false},
    {"elu", DPCRT_UNARY_ELU, 1.1, 1.05, 0.9, false},
    {"hardtanh", DPCRT_UNARY_HARDTANH, -0.55, 0.75, 0, false},
    {"clamp", DPCRT_UNARY_CLAMP, -0.3, 1.2, 0, false},
    {"pow 2.7", DPCRT_UNARY_POW_SCALAR, 2.7, 0, 0, true},
    {"pow 3", DPCRT_UNARY_POW_SCALAR, 3.0, 0, 0, false},
    {"pow -0.5", DPCRT_UNARY_POW_SCALAR, -0.5, 0, 0, true},
    {"pow 0.1", DPCRT_UNARY_POW_SCALAR, 0.1, 0, 0, true},
};

LD unaryReference(const UnaryCase &c, LD x) {
  LD p0 = c.p0, p1 = c.p1, p2 = c.p2;
  switch (c.kind) {
  case DPCRT_UNARY_RELU:
    return x > 0 ? x : 0;
  case DPCRT_UNARY_TANH:
    return std::tanh(x);
  case DPCRT_UNARY_SIGMOID:
    return sigmoid(x);
  case DPCRT_UNARY_NEG:
    return -x;
  case DPCRT_UNARY_EXP:
    return std::exp(x);
  case DPCRT_UNARY_LOG:
    return std::log(x);
  case DPCRT_UNARY_LOG1P:
    return std::log1p(x);
  case DPCRT_UNARY_SQRT:
    return std::sqrt(x);
  case DPCRT_UNARY_RSQRT:
    return 1 / std::sqrt(x);
  case DPCRT_UNARY_ABS:
    return std::fabs(x);
  case DPCRT_UNARY_RECIPROCAL:
    return 1 / x;
  case DPCRT_UNARY_SIN:
    return std::sin(x);
  case DPCRT_UNARY_COS:
    return std::cos(x);
  case DPCRT_UNARY_ERF:
    return std::erf(x);
  case DPCRT_UNARY_SILU:
    return x * sigmoid(x);
  case DPCRT_UNARY_SOFTPLUS:
    return x * p0 > p1 ? x : std::log1p(std::exp(p0 * x)) / p0;
  case DPCRT_UNARY_MISH:
    return x * std::tanh(std::log1p(std::exp(x)));
  case DPCRT_UNARY_HARDSWISH:
    return x * std::min<LD>(std::max<LD>(x + 3, 0), 6) / 6;
  case DPCRT_UNARY_HARDSIGMOID:
    return std::min<LD>(std::max<LD>(x + 3, 0), 6) / 6;
  case DPCRT_UNARY_LEAKY_RELU:
    return x > 0 ? x : p0 * x;
  case DPCRT_UNARY_ELU:
    return x <= 0 ? p0 * p1 * (std::exp(p2 * x) - 1) : p1 * x;
  case DPCRT_UNARY_HARDTANH:
  case DPCRT_UNARY_CLAMP:
    return std::min(std::max(x, p0), p1);
  default: // DPCRT_UNARY_POW_SCALAR
    return std::pow(x, p0);
  }
}

/// The forward output a kind's gradient reads instead of its input.
bool gradientReadsOutput(int32_t kind) {
  return kind == DPCRT_UNARY_TANH || kind == DPCRT_UNARY_SIGMOID ||
         kind == DPCRT_UNARY_EXP || kind == DPCRT_UNARY_SQRT ||
         kind == DPCRT_UNARY_RSQRT || kind == DPCRT_UNARY_RECIPROCAL;
}

/// dx for dy and `saved` (the forward output for gradientReadsOutput kinds,
/// else the input), the derivative written out.
LD unaryGradReference(const UnaryCase &c, LD dy, LD saved) {
  LD x = saved, y = saved, p0 = c.p0, p1 = c.p1, p2 = c.p2;
  switch (c.kind) {
  case DPCRT_UNARY_RELU:
    return x > 0 ? dy : 0;
  case DPCRT_UNARY_TANH:
    return dy * (1 - y * y);
  case DPCRT_UNARY_SIGMOID:
    return dy * y * (1 - y);
  case DPCRT_UNARY_NEG:
    return -dy;
  case DPCRT_UNARY_EXP:
    return dy * y;
  case DPCRT_UNARY_LOG:
    return dy / x;
  case DPCRT_UNARY_LOG1P:
    return dy / (1 + x);
  case DPCRT_UNARY_SQRT:
    return dy / (2 * y);
  case DPCRT_UNARY_RSQRT:
    return -dy * y * y * y / 2;
  case DPCRT_UNARY_ABS:
    return x > 0 ? dy : -dy;
  case DPCRT_UNARY_RECIPROCAL:
    return -dy * y * y;
  case DPCRT_UNARY_SIN:
    return dy * std::cos(x);
  case DPCRT_UNARY_COS:
    return -dy * std::sin(x);
  case DPCRT_UNARY_ERF:
    return dy * 2 / std::sqrt(3.14159265358979323846264338327950288L) *
           std::exp(-x * x);
  case DPCRT_UNARY_SILU:
    return dy * sigmoid(x) * (1 + x * (1 - sigmoid(x)));
  case DPCRT_UNARY_SOFTPLUS:
    return x * p0 > p1 ? dy : dy * sigmoid(p0 * x);
  case DPCRT_UNARY_MISH: {
    LD t = std::tanh(std::log1p(std::exp(x)));
    return dy * (t + x * sigmoid(x) * (1 - t * t));
  }
  case DPCRT_UNARY_HARDSWISH:
    return x < -3 ? 0 : (x <= 3 ? dy * (2 * x + 3) / 6 : dy);
  case DPCRT_UNARY_HARDSIGMOID:
    return x > -3 && x < 3 ? dy / 6 : 0;
  case DPCRT_UNARY_LEAKY_RELU:
    return x > 0 ? dy : p0 * dy;
  case DPCRT_UNARY_ELU:
    return x <= 0 ? dy * p0 * p1 * p2 * std::exp(p2 * x) : dy * p1;
  case DPCRT_UNARY_HARDTANH:
    return x <= p0 || x >= p1 ? 0 : dy;
  case DPCRT_UNARY_CLAMP:
    return x >= p0 && x <= p1 ? dy : 0;
  default: // DPCRT_UNARY_POW_SCALAR
    return dy * p0 * std::pow(x, p0 - 1);
  }
}

/// The size of the terms of the gradients that cancel where they cross zero
/// (maxRelError's magnitudes); 0 for the others.
LD unaryGradMagnitude(const UnaryCase &c, LD dy, LD x) {
  switch (c.kind) {
  case DPCRT_UNARY_SILU: // dy * s * (1 + x * (1 - s))
    return std::fabs(dy) * sigmoid(x) * (1 + std::fabs(x) * (1 - sigmoid(x)));
  case DPCRT_UNARY_MISH: { // dy * (t + x * s * (1 - t * t))
    LD t = std::tanh(std::log1p(std::exp(x)));
    return std::fabs(dy) *
           (std::fabs(t) + std::fabs(x) * sigmoid(x) * (1 - t * t));
  }
  case DPCRT_UNARY_HARDSWISH: // dy * (x / 3 + 0.5)
    return std::fabs(dy) * (std::fabs(x) / 3 + 0.5L);
  default:
    return 0;
  }
}

TEST_F(F64KernelsTest, UnaryKindsAgainstLongDouble) {
  const size_t n = 1000; // several vector widths and a tail
  for (const UnaryCase &c : kUnaryCases) {
    std::vector<double> in = randomDoubles(n, 11, 0.1, 2.0, c.positive);
    std::vector<double> out(n, NAN);
    dpcrt_unary_params_f64(&ctx, c.kind, out.data(), in.data(), n, c.p0, c.p1,
                           c.p2);
    std::vector<LD> want(n);
    for (size_t i = 0; i < n; ++i)
      want[i] = unaryReference(c, in[i]);
    expectClose(std::string("unary ") + c.name, out, want);
  }
  // unary_f64 is unary_params_f64 without parameters.
  std::vector<double> in = {1 + 1e-10, -2.5}, out(2);
  dpcrt_unary_f64(&ctx, DPCRT_UNARY_NEG, out.data(), in.data(), 2);
  EXPECT_EQ(out, (std::vector<double>{-(1 + 1e-10), 2.5}));
  dpcrt_unary_f64(&ctx, DPCRT_UNARY_SQRT, out.data(), in.data(), 1);
  EXPECT_EQ(out[0], std::sqrt(1 + 1e-10));
}

TEST_F(F64KernelsTest, UnaryGradKindsAgainstLongDouble) {
  const size_t n = 1000;
  for (const UnaryCase &c : kUnaryCases) {
    std::vector<double> x = randomDoubles(n, 12, 0.1, 2.0, c.positive);
    std::vector<double> dy = randomDoubles(n, 13);
    std::vector<double> saved = x;
    if (gradientReadsOutput(c.kind))
      for (size_t i = 0; i < n; ++i)
        saved[i] = static_cast<double>(unaryReference(c, x[i]));
    std::vector<double> dx(n, NAN);
    dpcrt_unary_params_grad_f64(&ctx, c.kind, dx.data(), dy.data(),
                                saved.data(), n, c.p0, c.p1, c.p2);
    std::vector<LD> want(n), magnitudes(n);
    for (size_t i = 0; i < n; ++i) {
      want[i] = unaryGradReference(c, dy[i], saved[i]);
      magnitudes[i] = unaryGradMagnitude(c, dy[i], saved[i]);
    }
    expectClose(std::string("unary_grad ") + c.name, dx, want, kTol,
                magnitudes);
  }
  // The tanh gradient's fused 1 - y*y at y = 1 - 1e-10 (float32 would give
  // exactly 0; an unfused double y*y would be off by 5e-7 relative). The
  // reference as (1 - y)(1 + y), both factors exact in long double.
  double y = 1 - 1e-10, dy = 1.0, dx = 0;
  dpcrt_unary_grad_f64(&ctx, DPCRT_UNARY_TANH, &dx, &dy, &y, 1);
  expectClose("unary_grad tanh near 1", dx, (1 - LD(y)) * (1 + LD(y)));
}

TEST_F(F64KernelsTest, UnaryRejectsUnknownKinds) {
  double x = 1, y = 0;
  dpcrt_unary_f64(&ctx, 9999, &y, &x, 1);
  EXPECT_NE(ctx.error.find("unknown kind"), std::string::npos);
  ctx.error.clear();
}

TEST_F(F64KernelsTest, BinaryBroadcastsEveryKind) {
  // [3, 5] op [5] (b broadcast along rows).
  const int64_t rows = 3, cols = 5;
  std::vector<double> a = randomDoubles(rows * cols, 21, 0.1, 2.0, true);
  std::vector<double> b = randomDoubles(cols, 22, 0.1, 2.0, true);
  a[0] = 1 + 1e-10; // float32 would round both to 1
  b[0] = 1 + 3e-10;
  const int64_t dims[] = {rows, cols, cols, 1, 0, 1};
  const double alpha = 0.7;
  struct {
    const char *name;
    int32_t kind;
  } kinds[] = {
      {"add", DPCRT_BINARY_ADD},         {"sub", DPCRT_BINARY_SUB},
      {"mul", DPCRT_BINARY_MUL},         {"div", DPCRT_BINARY_DIV},
      {"maximum", DPCRT_BINARY_MAXIMUM}, {"minimum", DPCRT_BINARY_MINIMUM},
      {"pow", DPCRT_BINARY_POW}};
  for (auto k : kinds) {
    std::vector<double> out(rows * cols, NAN);
    dpcrt_binary_f64(&ctx, k.kind, out.data(), a.data(), b.data(), 2, dims,
                     alpha);
    std::vector<LD> want(rows * cols);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        LD x = a[i * cols + j], y = b[j];
        LD r = k.kind == DPCRT_BINARY_ADD       ? x + LD(alpha) * y
               : k.kind == DPCRT_BINARY_SUB     ? x - LD(alpha) * y
               : k.kind == DPCRT_BINARY_MUL     ? x * y
               : k.kind == DPCRT_BINARY_DIV     ? x / y
               : k.kind == DPCRT_BINARY_MAXIMUM ? std::max(x, y)
               : k.kind == DPCRT_BINARY_MINIMUM ? std::min(x, y)
                                                : std::pow(x, y);
        want[i * cols + j] = r;
      }
    expectClose(std::string("binary ") + k.name, out, want);
  }
  // 1 + 1e-10 - (1 + 3e-10) with alpha 1: -2e-10, where float32 gives 0.
  double diff = 0;
  dpcrt_binary_f64(&ctx, DPCRT_BINARY_SUB, &diff, &a[0], &b[0], 0, nullptr,
                   1.0);
  expectClose("binary sub cancelling", diff, LD(a[0]) - LD(b[0]));
}

//===----------------------------------------------------------------------===//
// GEMM and bias
//===----------------------------------------------------------------------===//

TEST_F(F64KernelsTest, GemmAllTransposes) {
  const int64_t m = 37, n = 29, k = 67;
  for (int transA = 0; transA < 2; ++transA)
    for (int transB = 0; transB < 2; ++transB)
      for (double beta : {0.0, 0.5}) {
        std::vector<double> a = randomDoubles(m * k, 31 + transA);
        std::vector<double> b = randomDoubles(k * n, 33 + transB);
        std::vector<double> c = randomDoubles(m * n, 35);
        // magnitudes: the sums of the terms' absolute values (the dot
        // products cancel).
        std::vector<LD> want(m * n), magnitudes(m * n);
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            LD sum = 0, size = 0;
            for (int64_t p = 0; p < k; ++p) {
              LD term = LD(transA ? a[p * m + i] : a[i * k + p]) *
                        LD(transB ? b[j * k + p] : b[p * n + j]);
              sum += term;
              size += std::fabs(term);
            }
            want[i * n + j] = sum + LD(beta) * c[i * n + j];
            magnitudes[i * n + j] = size + std::fabs(LD(beta) * c[i * n + j]);
          }
        if (beta == 0.0)
          c.assign(m * n, NAN); // beta 0 ignores C
        dpcrt_gemm_f64(&ctx, c.data(), a.data(), b.data(), m, n, k, transA,
                       transB, beta);
        expectClose("gemm transA=" + std::to_string(transA) +
                        " transB=" + std::to_string(transB) +
                        " beta=" + std::to_string(beta),
                    c, want, kTol, magnitudes);
      }
}

TEST_F(F64KernelsTest, BatchedGemmBroadcastsTheBatch) {
  // A [2, 3] batch of [m, k] matrices times one [n, k]^T broadcast over it
  // (B's batch strides 0), then each C against its own GEMM.
  const int64_t m = 5, n = 4, k = 7, batch = 6;
  std::vector<double> a = randomDoubles(batch * m * k, 41);
  std::vector<double> b = randomDoubles(n * k, 43);
  std::vector<double> c(batch * m * n, NAN);
  const int64_t dims[] = {2, 3, /*A*/ 3, 1, /*B*/ 0, 0};
  dpcrt_batched_gemm_f64(&ctx, c.data(), a.data(), b.data(), 2, dims, m, n, k,
                         /*transA=*/0, /*transB=*/1);
  std::vector<LD> want(batch * m * n), magnitudes(batch * m * n);
  for (int64_t e = 0; e < batch; ++e)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        LD sum = 0, size = 0;
        for (int64_t p = 0; p < k; ++p) {
          LD term = LD(a[(e * m + i) * k + p]) * LD(b[j * k + p]);
          sum += term;
          size += std::fabs(term);
        }
        want[(e * m + i) * n + j] = sum;
        magnitudes[(e * m + i) * n + j] = size;
      }
  expectClose("batched_gemm", c, want, kTol, magnitudes);
}

TEST_F(F64KernelsTest, CompareWhereMaskedFill) {
  // Values 1 + 1e-10 apart, which float32 would compare equal.
  std::vector<double> a = {1.0, 1.0 + 1e-10, -2.0, 3.5};
  std::vector<double> b = {1.0 + 1e-10, 1.0, -2.0, 3.5};
  std::vector<double> mask(4);
  const int64_t dims[] = {4, 1, 1};
  dpcrt_compare_f64(&ctx, DPCRT_COMPARE_LT, mask.data(), a.data(), b.data(), 1,
                    dims);
  EXPECT_EQ(mask, (std::vector<double>{1, 0, 0, 0}));
  dpcrt_compare_f64(&ctx, DPCRT_COMPARE_EQ, mask.data(), a.data(), b.data(), 1,
                    dims);
  EXPECT_EQ(mask, (std::vector<double>{0, 0, 1, 1}));
  std::vector<double> out(4);
  dpcrt_where_f64(&ctx, out.data(), mask.data(), a.data(), b.data(), 4);
  EXPECT_EQ(out, (std::vector<double>{1.0 + 1e-10, 1.0, -2.0, 3.5}));
  // masked_fill with a mask broadcast along the rows of a [2, 4] input.
  std::vector<double> x = randomDoubles(8, 45), rowMask = {1, 0};
  const int64_t fillDims[] = {2, 4, 1, 0};
  out.resize(8);
  dpcrt_masked_fill_f64(&ctx, out.data(), x.data(), rowMask.data(), 2, fillDims,
                        0.1);
  for (int64_t j = 0; j < 4; ++j) {
    EXPECT_EQ(out[j], 0.1); // the double 0.1, not float32's
    EXPECT_EQ(out[4 + j], x[4 + j]);
  }
}

TEST_F(F64KernelsTest, BroadcastRows) {
  std::vector<double> bias = {1 + 1e-10, -2, 3 + 1e-12}, out(6, 0);
  dpcrt_broadcast_rows_f64(&ctx, out.data(), bias.data(), 2, 3);
  EXPECT_EQ(out, (std::vector<double>{1 + 1e-10, -2, 3 + 1e-12, 1 + 1e-10, -2,
                                      3 + 1e-12}));
}

//===----------------------------------------------------------------------===//
// Reductions and softmax
//===----------------------------------------------------------------------===//

TEST_F(F64KernelsTest, ReduceSum) {
  // [4, 6, 5] summed over dimension 1 into [4, 1, 5]: output strides 5, 0, 1.
  std::vector<double> in = randomDoubles(4 * 6 * 5, 41);
  const int64_t dims[] = {4, 6, 5, 5, 0, 1};
  std::vector<double> out(20, NAN);
  dpcrt_reduce_sum_f64(&ctx, out.data(), in.data(), 3, dims, 20);
  std::vector<LD> want(20, 0);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 6; ++j)
      for (int64_t r = 0; r < 5; ++r)
        want[i * 5 + r] += in[(i * 6 + j) * 5 + r];
  expectClose("reduce_sum dim 1", out, want);

  // A long sum of positive values into one element (where a naive double
  // sum drifts by ~1e-12).
  const int64_t n = 1 << 20;
  std::vector<double> big = randomDoubles(n, 42, 0.1, 2.0, true);
  big[0] = 1 + 1e-10;
  const int64_t all[] = {n, 0};
  double total = 0;
  dpcrt_reduce_sum_f64(&ctx, &total, big.data(), 1, all, 1);
  LD wantTotal = 0;
  for (double v : big)
    wantTotal += v;
  expectClose("reduce_sum 2^20 elements", total, wantTotal);
}

/// The softmax (or log-softmax) of [outer, size, inner] along `size`.
std::vector<LD> softmaxReference(const std::vector<double> &x, int64_t outer,
                                 int64_t size, int64_t inner, bool log) {
  std::vector<LD> y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < inner; ++r) {
      auto at = [&](int64_t j) { return (o * size + j) * inner + r; };
      LD sum = 0;
      for (int64_t j = 0; j < size; ++j)
        sum += std::exp(LD(x[at(j)]));
      for (int64_t j = 0; j < size; ++j)
        y[at(j)] =
            log ? x[at(j)] - std::log(sum) : std::exp(LD(x[at(j)])) / sum;
    }
  return y;
}

TEST_F(F64KernelsTest, SoftmaxAndLogSoftmax) {
  for (int64_t inner : {1, 3})
    for (int log = 0; log < 2; ++log) {
      const int64_t outer = 4, size = 33;
      std::vector<double> x = randomDoubles(outer * size * inner, 51, 0.1, 4.0);
      std::vector<double> y(x.size(), NAN);
      dpcrt_softmax_f64(&ctx, y.data(), x.data(), outer, size, inner, log);
      expectClose(std::string(log ? "log_softmax" : "softmax") +
                      " inner=" + std::to_string(inner),
                  y, softmaxReference(x, outer, size, inner, log));
    }
}

TEST_F(F64KernelsTest, SoftmaxGrad) {
  for (int64_t inner : {1, 3})
    for (int log = 0; log < 2; ++log) {
      const int64_t outer = 4, size = 33;
      std::vector<double> x = randomDoubles(outer * size * inner, 52, 0.1, 4.0);
      std::vector<double> dy = randomDoubles(x.size(), 53);
      std::vector<double> y(x.size());
      dpcrt_softmax_f64(&ctx, y.data(), x.data(), outer, size, inner, log);
      std::vector<double> dx(x.size(), NAN);
      dpcrt_softmax_grad_f64(&ctx, dx.data(), dy.data(), y.data(), outer, size,
                             inner, log);
      // The terms' sizes (maxRelError's magnitudes): dy and the sum cancel.
      std::vector<LD> want(x.size()), magnitudes(x.size());
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t r = 0; r < inner; ++r) {
          auto at = [&](int64_t j) { return (o * size + j) * inner + r; };
          LD sum = 0, sumSize = 0;
          for (int64_t j = 0; j < size; ++j) {
            LD term = log ? LD(dy[at(j)]) : LD(dy[at(j)]) * y[at(j)];
            sum += term;
            sumSize += std::fabs(term);
          }
          for (int64_t j = 0; j < size; ++j) {
            LD g = dy[at(j)], out = y[at(j)];
            want[at(j)] = log ? g - std::exp(out) * sum : (g - sum) * out;
            magnitudes[at(j)] = log ? std::fabs(g) + std::exp(out) * sumSize
                                    : (std::fabs(g) + sumSize) * out;
          }
        }
      expectClose(std::string(log ? "log_softmax_grad" : "softmax_grad") +
                      " inner=" + std::to_string(inner),
                  dx, want, kTol, magnitudes);
    }
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

TEST_F(F64KernelsTest, CrossEntropyAndGrad) {
  const int64_t n = 16, c = 10;
  std::vector<double> logits = randomDoubles(n * c, 61, 0.1, 3.0);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i)
    labels[i] = (i * 7 + 3) % c;
  std::vector<LD> logSumExp(n);
  LD total = 0;
  for (int64_t i = 0; i < n; ++i) {
    LD sum = 0;
    for (int64_t j = 0; j < c; ++j)
      sum += std::exp(LD(logits[i * c + j]));
    logSumExp[i] = std::log(sum);
    total += logSumExp[i] - logits[i * c + labels[i]];
  }
  double loss = NAN;
  dpcrt_cross_entropy_f64(&ctx, &loss, logits.data(), labels.data(), n, c);
  expectClose("cross_entropy", loss, total / n);

  double dloss = 1.5 + 1e-10;
  std::vector<double> dlogits(n * c, NAN);
  dpcrt_cross_entropy_grad_f64(&ctx, dlogits.data(), &dloss, logits.data(),
                               labels.data(), n, c);
  std::vector<LD> want(n * c);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j)
      want[i * c + j] = LD(dloss) *
                        (std::exp(logits[i * c + j] - logSumExp[i]) -
                         (j == labels[i] ? 1 : 0)) /
                        n;
  expectClose("cross_entropy_grad", dlogits, want);

  // An out-of-range label is an error, as for float32.
  labels[3] = c;
  dpcrt_cross_entropy_f64(&ctx, &loss, logits.data(), labels.data(), n, c);
  EXPECT_TRUE(std::isnan(loss));
  EXPECT_NE(ctx.error.find("label"), std::string::npos);
  ctx.error.clear();
}

TEST_F(F64KernelsTest, MseLossAndGrad) {
  const int64_t n = 1001;
  std::vector<double> pred = randomDoubles(n, 71),
                      target = randomDoubles(n, 72);
  LD total = 0;
  for (int64_t i = 0; i < n; ++i)
    total += (LD(pred[i]) - target[i]) * (LD(pred[i]) - target[i]);
  double loss = NAN;
  dpcrt_mse_loss_f64(&ctx, &loss, pred.data(), target.data(), n);
  expectClose("mse_loss", loss, total / n);

  double dloss = 0.75 + 1e-10;
  std::vector<double> dpred(n, NAN);
  dpcrt_mse_loss_grad_f64(&ctx, dpred.data(), &dloss, pred.data(),
                          target.data(), n);
  std::vector<LD> want(n);
  for (int64_t i = 0; i < n; ++i)
    want[i] = 2 * (LD(pred[i]) - target[i]) * dloss / n;
  expectClose("mse_loss_grad", dpred, want);

  // A difference float32 cannot see.
  double p = 1 + 1e-10, t = 1;
  dpcrt_mse_loss_f64(&ctx, &loss, &p, &t, 1);
  expectClose("mse_loss of 1 + 1e-10 and 1", loss, (LD(p) - 1) * (LD(p) - 1));
  EXPECT_GT(loss, 0.0);
}

TEST_F(F64KernelsTest, NllLossAndGrad) {
  const int64_t n = 9, c = 4;
  std::vector<double> input = randomDoubles(n * c, 81);
  std::vector<int64_t> labels(n);
  LD total = 0;
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = (i * 3 + 1) % c;
    total -= input[i * c + labels[i]];
  }
  double loss = NAN;
  dpcrt_nll_loss_f64(&ctx, &loss, input.data(), labels.data(), n, c);
  expectClose("nll_loss", loss, total / n);

  double dloss = 2 + 1e-10;
  std::vector<double> dinput(n * c, NAN);
  dpcrt_nll_loss_grad_f64(&ctx, dinput.data(), &dloss, labels.data(), n, c);
  std::vector<LD> want(n * c, 0);
  for (int64_t i = 0; i < n; ++i)
    want[i * c + labels[i]] = -LD(dloss) / n;
  expectClose("nll_loss_grad", dinput, want);
}

//===----------------------------------------------------------------------===//
// Optimizers and clipping
//===----------------------------------------------------------------------===//

TEST_F(F64KernelsTest, SgdAgainstTorchOptimSgd) {
  struct {
    const char *name;
    double lr, momentum, dampening, weightDecay;
    bool nesterov;
  } cases[] = {{"plain", 0.1, 0, 0, 0, false},
               {"momentum", 0.05, 0.9, 0.1, 0.01, false},
               {"nesterov", 0.05, 0.9, 0, 0.001, true}};
  const int64_t n = 257;
  for (auto &c : cases) {
    dpcrt_context sgd;
    std::vector<double> param = randomDoubles(n, 91), buf(n, 0);
    std::vector<LD> p(param.begin(), param.end()), b(n, 0);
    LD squares = 0;
    for (int step = 0; step < 3; ++step) {
      std::vector<double> grad = randomDoubles(n, 92 + step);
      sgd.step = step;
      dpcrt_sgd_update_f64(&sgd, param.data(), buf.data(), grad.data(), n, c.lr,
                           c.momentum, c.dampening, c.weightDecay, c.nesterov);
      // torch.optim.SGD's _single_tensor_sgd
      for (int64_t i = 0; i < n; ++i) {
        LD d = LD(grad[i]) + LD(c.weightDecay) * p[i];
        if (c.momentum != 0) {
          b[i] = step == 0 ? d : b[i] * c.momentum + (1 - LD(c.dampening)) * d;
          d = c.nesterov ? d + LD(c.momentum) * b[i] : b[i];
        }
        p[i] -= LD(c.lr) * d;
        squares += LD(grad[i]) * grad[i];
      }
    }
    EXPECT_EQ(sgd.error, "");
    expectClose(std::string("sgd ") + c.name + " param", param,
                std::vector<LD>(p.begin(), p.end()));
    if (c.momentum != 0)
      expectClose(std::string("sgd ") + c.name + " momentum_buffer", buf, b);
    expectClose(std::string("sgd ") + c.name + " gradient squares",
                sgd.gradientSquares.atUpdate, squares);
  }
}

TEST_F(F64KernelsTest, AdamAndAdamWAgainstTorchOptimAdam) {
  struct {
    const char *name;
    double lr, beta1, beta2, eps, weightDecay;
    bool decoupled;
  } cases[] = {{"Adam", 1e-3, 0.9, 0.999, 1e-8, 0.01, false},
               {"AdamW", 1e-3, 0.9, 0.999, 1e-8, 0.1, true},
               {"AdamOddBetas", 0.05, 0.8, 0.99, 1e-6, 0.0, false}};
  const int64_t n = 19;
  for (auto &c : cases) {
    dpcrt_context adam;
    std::vector<double> param = randomDoubles(n, 101);
    param[0] = 1 + 1e-10;
    std::vector<double> m(n, 0), v(n, 0);
    std::vector<LD> p(param.begin(), param.end()), mw(n, 0), vw(n, 0);
    LD squares = 0;
    for (int step = 0; step < 3; ++step) {
      std::vector<double> grad = randomDoubles(n, 102 + step, 1e-3, 1.0);
      adam.step = step;
      dpcrt_adam_update_f64(&adam, param.data(), m.data(), v.data(),
                            grad.data(), n, c.lr, c.beta1, c.beta2, c.eps,
                            c.weightDecay, c.decoupled);
      // torch.optim's _single_tensor_adam, t = step + 1
      LD t = step + 1;
      LD biasCorrection1 = 1 - std::pow(LD(c.beta1), t);
      LD biasCorrection2 = 1 - std::pow(LD(c.beta2), t);
      LD stepSize = LD(c.lr) / biasCorrection1;
      for (int64_t i = 0; i < n; ++i) {
        LD g = grad[i];
        squares += g * g;
        if (c.decoupled)
          p[i] *= 1 - LD(c.lr) * c.weightDecay;
        else
          g += LD(c.weightDecay) * p[i];
        mw[i] = mw[i] * c.beta1 + (1 - LD(c.beta1)) * g;
        vw[i] = vw[i] * c.beta2 + (1 - LD(c.beta2)) * g * g;
        LD denom = std::sqrt(vw[i]) / std::sqrt(biasCorrection2) + c.eps;
        p[i] -= stepSize * mw[i] / denom;
      }
    }
    EXPECT_EQ(adam.error, "");
    expectClose(std::string(c.name) + " param", param, p);
    expectClose(std::string(c.name) + " exp_avg", m, mw);
    expectClose(std::string(c.name) + " exp_avg_sq", v, vw);
    expectClose(std::string(c.name) + " gradient squares",
                adam.gradientSquares.atUpdate, squares);
  }
}

TEST_F(F64KernelsTest, ClipGradNormAgainstTorch) {
  for (double normType : {2.0, 1.0, 3.0, double(INFINITY)})
    for (double maxNorm : {0.5, 1e6}) { // clipped, and the coefficient 1
      std::vector<double> g0 = randomDoubles(1000, 111);
      std::vector<double> g1 = randomDoubles(37, 112);
      g1[0] = 1 + 1e-10;
      std::vector<LD> w0(g0.begin(), g0.end()), w1(g1.begin(), g1.end());
      double *grads[] = {g0.data(), g1.data()};
      const int64_t sizes[] = {1000, 37};
      dpcrt_context clip;
      dpcrt_clip_grad_norm_f64(&clip, grads, sizes, 2, maxNorm, normType);
      EXPECT_EQ(clip.error, "");
      // torch.norm(stack([norm(g, p) for g in grads]), p) is the p-norm of
      // all the elements.
      LD total = 0, squares = 0;
      for (const auto *w : {&w0, &w1})
        for (LD x : *w) {
          total = std::isinf(normType)
                      ? std::max(total, std::fabs(x))
                      : total + std::pow(std::fabs(x), LD(normType));
          squares += x * x;
        }
      if (!std::isinf(normType))
        total = std::pow(total, 1 / LD(normType));
      LD coef = std::min<LD>(LD(maxNorm) / (total + LD(1e-6)), 1);
      for (auto *w : {&w0, &w1})
        for (LD &x : *w)
          x *= coef;
      std::string name = "clip_grad_norm p=" + std::to_string(normType) +
                         " max=" + std::to_string(maxNorm);
      expectClose(name + " grad 0", g0, w0);
      expectClose(name + " grad 1", g1, w1);
      expectClose(name + " squares", clip.gradientSquares.beforeClip, squares);
      EXPECT_TRUE(clip.gradientSquares.clipped);
    }
}

} // namespace
