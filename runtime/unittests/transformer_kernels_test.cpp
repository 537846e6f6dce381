//===- transformer_kernels_test.cpp - Transformer kernels vs references ---===//
//
// Each transformer kernel (embedding, layer norm, GELU, softmax, masks,
// batched GEMM, strided copy, NLL loss) against a straightforward
// double-precision reference (or, where the kernel promises an exact float
// operation order, against the same float loop, bit for bit).
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "test_util.h"

#include <cmath>
#include <random>

namespace {

using dpc::test::randomVector;

void expectNear(const std::vector<float> &got, const std::vector<double> &want,
                double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::fabs(want[i])))
        << "at " << i;
}

class TransformerKernelsTest : public ::testing::Test {
protected:
  dpcrt_context ctx;
};

//===----------------------------------------------------------------------===//
// Batched GEMM
//===----------------------------------------------------------------------===//

TEST_F(TransformerKernelsTest, BatchedGemmBroadcastAndTransposes) {
  // Batch [2, 3]: A has batch [2, 1] (broadcast along the second dim), B
  // has batch [3] (broadcast along the first).
  const int64_t m = 3, n = 4, k = 5;
  const int64_t dims[] = {2, 3, /*A*/ 1, 0, /*B*/ 0, 1};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      std::vector<float> a = randomVector(2 * m * k, 7 + ta);
      std::vector<float> b = randomVector(3 * k * n, 9 + tb);
      std::vector<float> c(6 * m * n, NAN);
      std::vector<double> want(6 * m * n);
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 3; ++j) {
          const float *am = a.data() + i * m * k, *bm = b.data() + j * k * n;
          for (int64_t r = 0; r < m; ++r)
            for (int64_t s = 0; s < n; ++s) {
              double sum = 0;
              for (int64_t p = 0; p < k; ++p)
                sum += double(ta ? am[p * m + r] : am[r * k + p]) *
                       double(tb ? bm[s * k + p] : bm[p * n + s]);
              want[((i * 3 + j) * m + r) * n + s] = sum;
            }
        }
      dpcrt_batched_gemm_f32(&ctx, c.data(), a.data(), b.data(), 2, dims, m, n,
                             k, ta, tb);
      SCOPED_TRACE("ta=" + std::to_string(ta) + " tb=" + std::to_string(tb));
      expectNear(c, want, 1e-6);
    }
  EXPECT_EQ(ctx.error, "");
}

TEST_F(TransformerKernelsTest, BatchedGemmWithoutBatch) {
  std::vector<float> a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c(4);
  dpcrt_batched_gemm_f32(&ctx, c.data(), a.data(), b.data(), 0, nullptr, 2, 2,
                         2, 0, 0);
  EXPECT_EQ(c, (std::vector<float>{19, 22, 43, 50}));
}

//===----------------------------------------------------------------------===//
// Strided copies
//===----------------------------------------------------------------------===//

TEST_F(TransformerKernelsTest, StridedCopyPermutes) {
  // [2, 3, 4] -> permutation (2, 0, 1): out [4, 2, 3].
  std::vector<float> in(24), out(24);
  for (int i = 0; i < 24; ++i)
    in[i] = float(i);
  const int64_t dims[] = {4, 2, 3, /*out*/ 6, 3, 1, /*in*/ 1, 12, 4};
  dpcrt_strided_copy(&ctx, out.data(), in.data(), 4, 3, dims);
  for (int64_t p = 0; p < 4; ++p)
    for (int64_t q = 0; q < 2; ++q)
      for (int64_t r = 0; r < 3; ++r)
        EXPECT_EQ(out[(p * 2 + q) * 3 + r], in[(q * 3 + r) * 4 + p]);
}

TEST_F(TransformerKernelsTest, StridedCopySlicesWithStepAndBroadcasts) {
  // x[:, 1:6:2] of a [2, 7] int64 tensor.
  std::vector<int64_t> in(14), out(6);
  for (int i = 0; i < 14; ++i)
    in[i] = 100 + i;
  const int64_t slice[] = {2, 3, /*out*/ 3, 1, /*in*/ 7, 2};
  dpcrt_strided_copy(&ctx, out.data(), in.data() + 1, 8, 2, slice);
  EXPECT_EQ(out, (std::vector<int64_t>{101, 103, 105, 108, 110, 112}));
  // [3] broadcast to [2, 3].
  std::vector<float> row = {1, 2, 3}, grid(6);
  const int64_t broadcast[] = {2, 3, /*out*/ 3, 1, /*in*/ 0, 1};
  dpcrt_strided_copy(&ctx, grid.data(), row.data(), 4, 2, broadcast);
  EXPECT_EQ(grid, (std::vector<float>{1, 2, 3, 1, 2, 3}));
  // A 0-d copy and an empty shape.
  float scalar = 0, value = 5;
  dpcrt_strided_copy(&ctx, &scalar, &value, 4, 0, nullptr);
  EXPECT_EQ(scalar, 5.0f);
  const int64_t empty[] = {0, 3, 3, 1, 3, 1};
  dpcrt_strided_copy(&ctx, nullptr, nullptr, 4, 2, empty);
  EXPECT_EQ(ctx.error, "");
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

TEST_F(TransformerKernelsTest, EmbeddingLooksUpRows) {
  std::vector<float> w = randomVector(5 * 3, 11), out(4 * 3);
  std::vector<int64_t> idx = {4, 0, 4, 2};
  dpcrt_embedding_f32(&ctx, out.data(), w.data(), idx.data(), 4, 5, 3);
  for (int s = 0; s < 4; ++s)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(out[s * 3 + j], w[idx[s] * 3 + j]);
  EXPECT_EQ(ctx.error, "");
}

TEST_F(TransformerKernelsTest, EmbeddingRejectsIndicesOutOfRange) {
  std::vector<float> w(6), out(6);
  std::vector<int64_t> idx = {0, 3};
  dpcrt_embedding_f32(&ctx, out.data(), w.data(), idx.data(), 2, 3, 2);
  EXPECT_EQ(ctx.error,
            "embedding: index 3 at position 1 is out of range [0, 3)");
}

TEST_F(TransformerKernelsTest, EmbeddingGradScatterAddsInOrder) {
  const int64_t v = 4, d = 3, n = 6;
  std::vector<int64_t> idx = {1, 3, 1, 1, 0, 3};
  std::vector<float> g = randomVector(n * d, 13), dw(v * d, NAN);
  dpcrt_embedding_grad_f32(&ctx, dw.data(), g.data(), idx.data(), n, v, d,
                           /*padding_idx=*/0);
  // The same float additions in the same order, bit for bit; row 0 is the
  // padding row and row 2 is never indexed.
  std::vector<float> want(v * d, 0.0f);
  for (int64_t s = 0; s < n; ++s)
    if (idx[s] != 0)
      for (int64_t j = 0; j < d; ++j)
        want[idx[s] * d + j] += g[s * d + j];
  EXPECT_EQ(dw, want);
  EXPECT_EQ(ctx.error, "");
}

//===----------------------------------------------------------------------===//
// layer_norm
//===----------------------------------------------------------------------===//

TEST_F(TransformerKernelsTest, LayerNormAndGradient) {
  const int64_t rows = 5, cols = 16;
  const float eps = 1e-5f;
  std::vector<float> x = randomVector(rows * cols, 17, -3.0f, 2.0f);
  std::vector<float> gamma = randomVector(cols, 19, 0.5f, 1.5f);
  std::vector<float> beta = randomVector(cols, 23);
  std::vector<float> dy = randomVector(rows * cols, 29);
  std::vector<double> wantY(rows * cols), wantDx(rows * cols),
      wantDg(cols, 0.0), wantDb(cols, 0.0);
  for (int64_t i = 0; i < rows; ++i) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < cols; ++j)
      mean += x[i * cols + j];
    mean /= cols;
    for (int64_t j = 0; j < cols; ++j)
      var += (x[i * cols + j] - mean) * (x[i * cols + j] - mean);
    var /= cols;
    double rstd = 1.0 / std::sqrt(var + eps);
    // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma.
    double meanG = 0, meanGX = 0;
    for (int64_t j = 0; j < cols; ++j) {
      double xhat = (x[i * cols + j] - mean) * rstd;
      double g = double(dy[i * cols + j]) * gamma[j];
      wantY[i * cols + j] = xhat * gamma[j] + beta[j];
      meanG += g / cols;
      meanGX += g * xhat / cols;
      wantDg[j] += dy[i * cols + j] * xhat;
      wantDb[j] += dy[i * cols + j];
    }
    for (int64_t j = 0; j < cols; ++j) {
      double xhat = (x[i * cols + j] - mean) * rstd;
      double g = double(dy[i * cols + j]) * gamma[j];
      wantDx[i * cols + j] = rstd * (g - meanG - xhat * meanGX);
    }
  }
  std::vector<float> y(rows * cols), dx(rows * cols), dg(cols), db(cols);
  dpcrt_layer_norm_f32(&ctx, y.data(), x.data(), gamma.data(), beta.data(),
                       rows, cols, eps);
  dpcrt_layer_norm_grad_f32(&ctx, dx.data(), dg.data(), db.data(), dy.data(),
                            x.data(), gamma.data(), rows, cols, eps);
  expectNear(y, wantY, 2e-6);
  expectNear(dx, wantDx, 2e-5);
  expectNear(dg, wantDg, 2e-6);
  expectNear(db, wantDb, 2e-6);
  // Without affine parameters: gamma 1, beta 0.
  std::vector<float> plain(rows * cols);
  dpcrt_layer_norm_f32(&ctx, plain.data(), x.data(), nullptr, nullptr, rows,
                       cols, eps);
  for (int64_t i = 0; i < rows * cols; ++i)
    EXPECT_NEAR(plain[i], (wantY[i] - beta[i % cols]) / gamma[i % cols], 2e-5);
  EXPECT_EQ(ctx.error, "");
}

//===----------------------------------------------------------------------===//
// gelu
//===----------------------------------------------------------------------===//

double geluRef(double x, bool tanhForm) {
  if (!tanhForm)
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  double inner = std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1.0 + std::tanh(inner));
}

TEST_F(TransformerKernelsTest, GeluBothFormsAndGradients) {
  std::vector<float> x = randomVector(64, 31, -5.0f, 5.0f);
  std::vector<float> dy = randomVector(64, 37);
  for (int32_t kind : {DPCRT_GELU_ERF, DPCRT_GELU_TANH}) {
    std::vector<double> want(64), wantDx(64);
    for (size_t i = 0; i < x.size(); ++i) {
      want[i] = geluRef(x[i], kind == DPCRT_GELU_TANH);
      const double h = 1e-6;
      double slope = (geluRef(x[i] + h, kind == DPCRT_GELU_TANH) -
                      geluRef(x[i] - h, kind == DPCRT_GELU_TANH)) /
                     (2 * h);
      wantDx[i] = dy[i] * slope;
    }
    std::vector<float> y(64), dx(64);
    dpcrt_gelu_f32(&ctx, kind, y.data(), x.data(), 64);
    dpcrt_gelu_grad_f32(&ctx, kind, dx.data(), dy.data(), x.data(), 64);
    SCOPED_TRACE("kind=" + std::to_string(kind));
    expectNear(y, want, 1e-6);
    expectNear(dx, wantDx, 1e-5);
  }
  EXPECT_EQ(ctx.error, "");
  float out;
  dpcrt_gelu_f32(&ctx, 7, &out, x.data(), 1);
  EXPECT_EQ(ctx.error, "gelu: unknown kind 7");
}

//===----------------------------------------------------------------------===//
// softmax, log_softmax
//===----------------------------------------------------------------------===//

TEST_F(TransformerKernelsTest, SoftmaxAlongEveryDimensionWithMasks) {
  // [outer, size, inner] = [2, 5, 3], softmax along the middle dimension;
  // inner = 1 is the last-dimension path.
  for (int64_t inner : {1, 3}) {
    const int64_t outer = 2, size = 5, n = outer * size * inner;
    std::vector<float> x = randomVector(n, 41, -4.0f, 4.0f);
    x[inner] = -INFINITY; // a masked score
    std::vector<float> dy = randomVector(n, 43);
    for (int log = 0; log < 2; ++log) {
      std::vector<double> want(n), wantDx(n);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t r = 0; r < inner; ++r) {
          auto at = [&](int64_t j) { return (o * size + j) * inner + r; };
          double max = -INFINITY, sum = 0, dot = 0, gsum = 0;
          for (int64_t j = 0; j < size; ++j)
            max = std::max(max, double(x[at(j)]));
          for (int64_t j = 0; j < size; ++j)
            sum += std::exp(x[at(j)] - max);
          for (int64_t j = 0; j < size; ++j) {
            double p = std::exp(x[at(j)] - max) / sum;
            want[at(j)] = log ? x[at(j)] - max - std::log(sum) : p;
            dot += dy[at(j)] * p;
            gsum += dy[at(j)];
          }
          for (int64_t j = 0; j < size; ++j) {
            double p = std::exp(x[at(j)] - max) / sum;
            wantDx[at(j)] = log ? dy[at(j)] - p * gsum : (dy[at(j)] - dot) * p;
          }
        }
      std::vector<float> y(n), dx(n);
      dpcrt_softmax_f32(&ctx, y.data(), x.data(), outer, size, inner, log);
      dpcrt_softmax_grad_f32(&ctx, dx.data(), dy.data(), y.data(), outer, size,
                             inner, log);
      SCOPED_TRACE("inner=" + std::to_string(inner) +
                   " log=" + std::to_string(log));
      if (log) {
        EXPECT_EQ(y[inner], -INFINITY);
        y[inner] = 0;
        want[inner] = 0;
      } else {
        EXPECT_EQ(y[inner], 0.0f);
      }
      expectNear(y, want, 1e-6);
      expectNear(dx, wantDx, 1e-6);
    }
  }
  EXPECT_EQ(ctx.error, "");
}

//===----------------------------------------------------------------------===//
// Masks, division, nll_loss
//===----------------------------------------------------------------------===//

TEST_F(TransformerKernelsTest, CompareBroadcastsEveryPredicate) {
  std::vector<float> a = {1, 2, 3, 4, 5, 6}; // [2, 3]
  std::vector<float> b = {2, 5};             // [2, 1]
  const int64_t dims[] = {2, 3, /*a*/ 3, 1, /*b*/ 1, 0};
  const std::vector<std::vector<float>> want = {
      {0, 1, 0, 0, 1, 0}, // eq
      {1, 0, 1, 1, 0, 1}, // ne
      {1, 0, 0, 1, 0, 0}, // lt
      {1, 1, 0, 1, 1, 0}, // le
      {0, 0, 1, 0, 0, 1}, // gt
      {0, 1, 1, 0, 1, 1}, // ge
  };
  for (int32_t kind = DPCRT_COMPARE_EQ; kind <= DPCRT_COMPARE_GE; ++kind) {
    std::vector<float> out(6, NAN);
    dpcrt_compare_f32(&ctx, kind, out.data(), a.data(), b.data(), 2, dims);
    EXPECT_EQ(out, want[kind]) << "kind " << kind;
  }
  float zero = 0, one = 1, result = NAN;
  dpcrt_compare_f32(&ctx, DPCRT_COMPARE_EQ, &result, &zero, &one, 0, nullptr);
  EXPECT_EQ(result, 0.0f);
  EXPECT_EQ(ctx.error, "");
}

TEST_F(TransformerKernelsTest, MaskedFillBroadcastsTheMask) {
  // A causal [3, 3] mask over a [2, 3, 3] tensor.
  std::vector<float> x = randomVector(18, 47), out(18);
  std::vector<float> mask = {0, 1, 1, 0, 0, 1, 0, 0, 0};
  const int64_t dims[] = {2, 3, 3, /*mask*/ 0, 3, 1};
  dpcrt_masked_fill_f32(&ctx, out.data(), x.data(), mask.data(), 3, dims,
                        -INFINITY);
  for (int64_t i = 0; i < 18; ++i)
    EXPECT_EQ(out[i], mask[i % 9] != 0 ? -INFINITY : x[i]) << "at " << i;
}

TEST_F(TransformerKernelsTest, DivScalarDividesInPlace) {
  std::vector<float> x = randomVector(9, 53);
  std::vector<float> want = x;
  float d = std::sqrt(16.0f / 2.0f);
  for (float &v : want)
    v = v / d;
  dpcrt_div_scalar_f32(&ctx, x.data(), x.data(), 9, d);
  EXPECT_EQ(x, want);
}

TEST_F(TransformerKernelsTest, NLLLossAndGradient) {
  std::vector<float> logp = randomVector(3 * 4, 59, -3.0f, 0.0f);
  std::vector<int64_t> labels = {2, 0, 3};
  float loss = NAN, dloss = 2.0f;
  dpcrt_nll_loss_f32(&ctx, &loss, logp.data(), labels.data(), 3, 4);
  EXPECT_NEAR(loss, -(double(logp[2]) + logp[4] + logp[11]) / 3, 1e-6);
  std::vector<float> grad(12, NAN);
  dpcrt_nll_loss_grad_f32(&ctx, grad.data(), &dloss, labels.data(), 3, 4);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j)
      EXPECT_EQ(grad[i * 4 + j], j == labels[i] ? -(2.0f / 3.0f) : 0.0f);
  EXPECT_EQ(ctx.error, "");
  labels[1] = -100;
  dpcrt_nll_loss_f32(&ctx, &loss, logp.data(), labels.data(), 3, 4);
  EXPECT_EQ(ctx.error,
            "nll_loss: label -100 of sample 1 is out of range [0, 4)");
}

} // namespace
