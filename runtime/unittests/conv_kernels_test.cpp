//===- conv_kernels_test.cpp - CNN kernels against naive references -------===//
//
// conv2d (forward, input and weight gradients; strides, padding, dilation,
// groups, 1x1 kernels, channel counts for which oneDNN picks blocked
// layouts; cached primitives rerun with the same results), batch_norm
// (statistics, running statistics, normalization, gradients),
// max/average/adaptive average pooling and increment, each against a direct
// double-precision evaluation of its definition. (Bitwise agreement of
// batch_norm and pooling with PyTorch is checked end to end by the lit tests in
// test/E2E.)
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "test_util.h"

#include <cmath>
#include <iterator>
#include <limits>
#include <random>

namespace {

using dpc::test::randomVector;

/// |got - want| <= tol * max(1, max|want|) elementwise (normwise relative).
void expectClose(const std::vector<float> &got, const std::vector<double> &want,
                 double tol) {
  ASSERT_EQ(got.size(), want.size());
  double scale = 1.0;
  for (double w : want)
    scale = std::max(scale, std::fabs(w));
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * scale) << "at " << i;
}

class ConvKernelsTest : public ::testing::Test {
protected:
  dpcrt_context ctx;
  void TearDown() override { EXPECT_EQ(ctx.error, ""); }
};

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

struct ConvCase {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  bool bias;

  int64_t oh() const { return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }
  int64_t ow() const { return (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1; }
  std::vector<int64_t> dims() const {
    return {n, c, h, w, o, kh, kw, oh(), ow(), sh, sw, ph, pw, dh, dw, groups};
  }
  std::string name() const {
    return "conv " + std::to_string(c) + "->" + std::to_string(o) + " k" +
           std::to_string(kh) + "x" + std::to_string(kw) + " s" +
           std::to_string(sh) + " p" + std::to_string(ph) + " d" +
           std::to_string(dh) + " g" + std::to_string(groups);
  }

  /// Calls f(n, o, y, x, ci, ky, kx, inputIndex, weightIndex) for every
  /// term of the convolution that reads the input (not the padding).
  template <typename F> void forEachTerm(F f) const {
    int64_t cg = c / groups, og = o / groups;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t oc = 0; oc < o; ++oc)
        for (int64_t y = 0; y < oh(); ++y)
          for (int64_t x = 0; x < ow(); ++x)
            for (int64_t ci = 0; ci < cg; ++ci)
              for (int64_t ky = 0; ky < kh; ++ky)
                for (int64_t kx = 0; kx < kw; ++kx) {
                  int64_t iy = y * sh - ph + ky * dh,
                          ix = x * sw - pw + kx * dw;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                    continue;
                  int64_t inChannel = (oc / og) * cg + ci;
                  int64_t out = ((b * o + oc) * oh() + y) * ow() + x;
                  int64_t in = ((b * c + inChannel) * h + iy) * w + ix;
                  int64_t wt = ((oc * cg + ci) * kh + ky) * kw + kx;
                  f(out, in, wt);
                }
  }

  struct Reference {
    std::vector<double> y, dx, dw;
  };
  /// The convolution (with `b` as bias when it has one) and its two
  /// gradients for `dy`, in double.
  Reference reference(const std::vector<float> &x, const std::vector<float> &w,
                      const std::vector<float> &b,
                      const std::vector<float> &dy) const {
    Reference r{std::vector<double>(n * o * oh() * ow(), 0.0),
                std::vector<double>(x.size(), 0.0),
                std::vector<double>(w.size(), 0.0)};
    if (bias)
      for (size_t i = 0; i < r.y.size(); ++i)
        r.y[i] = b[(i / (oh() * ow())) % o];
    forEachTerm([&](int64_t out, int64_t in, int64_t wt) {
      r.y[out] += double(x[in]) * w[wt];
      r.dx[in] += double(dy[out]) * w[wt];
      r.dw[wt] += double(dy[out]) * x[in];
    });
    return r;
  }
};

TEST_F(ConvKernelsTest, Conv2dForwardAndGradients) {
  const ConvCase cases[] = {
      {2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},   // same padding
      {2, 4, 9, 7, 6, 3, 2, 2, 1, 1, 0, 1, 1, 2, false},  // strided, grouped
      {2, 6, 11, 10, 6, 3, 3, 2, 2, 2, 2, 2, 2, 3, true}, // dilated
      {3, 8, 5, 6, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1, true},   // 1x1
      {2, 8, 8, 8, 16, 1, 1, 2, 2, 0, 0, 1, 1, 1, false}, // strided 1x1
      {1, 4, 4, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4, true},   // depthwise
      // Channel counts for which oneDNN reorders into blocked layouts.
      {2, 16, 8, 8, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, true},
      {2, 32, 6, 6, 16, 1, 1, 1, 1, 0, 0, 1, 1, 1, false},
      {3, 3, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, false},
  };
  struct Results {
    std::vector<float> y, dx, dw;
  };
  std::vector<Results> first;
  // The second pass reruns every geometry on primitives cached in the first,
  // after the others have run (and possibly grown the shared buffers).
  for (int pass = 0; pass < 2; ++pass) {
    unsigned seed = 1;
    for (size_t c = 0; c < std::size(cases); ++c) {
      const ConvCase &k = cases[c];
      SCOPED_TRACE(k.name() + (pass ? " (cached)" : ""));
      int64_t inSize = k.n * k.c * k.h * k.w,
              wSize = k.o * (k.c / k.groups) * k.kh * k.kw,
              outSize = k.n * k.o * k.oh() * k.ow();
      std::vector<float> x = randomVector(inSize, seed++);
      std::vector<float> w = randomVector(wSize, seed++);
      std::vector<float> b = randomVector(k.o, seed++);
      std::vector<float> dy = randomVector(outSize, seed++);
      std::vector<int64_t> dims = k.dims();

      // NaN-filled outputs: the kernels must overwrite every element.
      Results r{std::vector<float>(outSize, NAN),
                std::vector<float>(inSize, NAN),
                std::vector<float>(wSize, NAN)};
      dpcrt_conv2d_f32(&ctx, r.y.data(), x.data(), w.data(),
                       k.bias ? b.data() : nullptr, dims.data());
      dpcrt_conv2d_input_grad_f32(&ctx, r.dx.data(), dy.data(), w.data(),
                                  dims.data());
      dpcrt_conv2d_weight_grad_f32(&ctx, r.dw.data(), dy.data(), x.data(),
                                   dims.data());
      if (pass == 1) {
        EXPECT_EQ(r.y, first[c].y);
        EXPECT_EQ(r.dx, first[c].dx);
        EXPECT_EQ(r.dw, first[c].dw);
        continue;
      }

      ConvCase::Reference want = k.reference(x, w, b, dy);
      expectClose(r.y, want.y, 1e-5);
      expectClose(r.dx, want.dx, 1e-5);
      expectClose(r.dw, want.dw, 1e-5);
      first.push_back(std::move(r));
    }
  }
}

// bfloat16 operands (--precision bf16's convolutions, dpc-bf16-kernels):
// oneDNN's bfloat16 convolutions where the CPU has bfloat16 units, the
// float32 ones on the widened operands elsewhere; either way the exact
// products summed in float32, so within float32 rounding of the double
// reference, for the geometries above and ResNet's (a 7x7 stride-2 stem on
// 3 channels, 1x1 stride-2 shortcuts, 64 channels).
TEST_F(ConvKernelsTest, Conv2dBFloat16Operands) {
  const ConvCase cases[] = {
      {2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},
      {2, 4, 9, 7, 6, 3, 2, 2, 1, 1, 0, 1, 1, 2, false},
      {2, 6, 11, 10, 6, 3, 3, 2, 2, 2, 2, 2, 2, 3, true},
      {3, 8, 5, 6, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1, true},
      {1, 4, 4, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4, true},
      {2, 16, 8, 8, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, true},
      {2, 3, 32, 32, 64, 7, 7, 2, 2, 3, 3, 1, 1, 1, false},
      {2, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, false},
      {2, 64, 8, 8, 128, 1, 1, 2, 2, 0, 0, 1, 1, 1, false},
  };
  unsigned seed = 101;
  for (const ConvCase &k : cases) {
    SCOPED_TRACE(k.name());
    int64_t inSize = k.n * k.c * k.h * k.w,
            wSize = k.o * (k.c / k.groups) * k.kh * k.kw,
            outSize = k.n * k.o * k.oh() * k.ow();
    auto bfloat16Vector = [&](int64_t n, std::vector<uint16_t> &bits) {
      std::vector<float> v = randomVector(n, seed++);
      bits.resize(n);
      dpcrt_pack_bf16(&ctx, bits.data(), v.data(), n);
      dpcrt_unpack_bf16(&ctx, v.data(), bits.data(), n);
      return v;
    };
    std::vector<uint16_t> xBits, wBits, dyBits;
    std::vector<float> x = bfloat16Vector(inSize, xBits);
    std::vector<float> w = bfloat16Vector(wSize, wBits);
    std::vector<float> dy = bfloat16Vector(outSize, dyBits);
    std::vector<float> b = randomVector(k.o, seed++);
    std::vector<int64_t> dims = k.dims();
    std::vector<float> y(outSize, NAN), dx(inSize, NAN), dw(wSize, NAN);
    dpcrt_conv2d_bf16(&ctx, y.data(), xBits.data(), wBits.data(),
                      k.bias ? b.data() : nullptr, dims.data());
    dpcrt_conv2d_input_grad_bf16(&ctx, dx.data(), dyBits.data(), wBits.data(),
                                 dims.data());
    dpcrt_conv2d_weight_grad_bf16(&ctx, dw.data(), dyBits.data(), xBits.data(),
                                  dims.data());
    ConvCase::Reference want = k.reference(x, w, b, dy);
    expectClose(y, want.y, 1e-5);
    expectClose(dx, want.dx, 1e-5);
    expectClose(dw, want.dw, 1e-5);
  }
}

TEST_F(ConvKernelsTest, Conv2dRejectsInconsistentGeometry) {
  ConvCase k{1, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, false};
  std::vector<int64_t> dims = k.dims();
  dims[DPCRT_CONV2D_OH] = 7; // should be 8
  std::vector<float> x(192), w(108), y(256);
  dpcrt_conv2d_f32(&ctx, y.data(), x.data(), w.data(), nullptr, dims.data());
  EXPECT_NE(ctx.error.find("conv2d: invalid geometry"), std::string::npos)
      << ctx.error;
  ctx.error.clear();
}

//===----------------------------------------------------------------------===//
// batch_norm
//===----------------------------------------------------------------------===//

TEST_F(ConvKernelsTest, BatchNormForwardAndGradients) {
  struct Case {
    int64_t n, c, inner;
  };
  for (Case k :
       {Case{4, 3, 63}, Case{8, 5, 4}, Case{6, 4, 1}, Case{2, 2, 17}}) {
    SCOPED_TRACE("n=" + std::to_string(k.n) + " c=" + std::to_string(k.c) +
                 " inner=" + std::to_string(k.inner));
    int64_t size = k.n * k.c * k.inner, count = k.n * k.inner;
    std::vector<float> x = randomVector(size, 10, -2.0f, 3.0f);
    std::vector<float> w = randomVector(k.c, 11), b = randomVector(k.c, 12);
    std::vector<float> rm = randomVector(k.c, 13),
                       rv = randomVector(k.c, 14, 0.5f, 2.0f);
    std::vector<float> dy = randomVector(size, 15);
    const double momentum = 0.1, eps = 1e-5;
    auto at = [&](int64_t b_, int64_t ch, int64_t i) {
      return (b_ * k.c + ch) * k.inner + i;
    };

    std::vector<double> wantY(size), wantDx(size), wantDw(k.c), wantDb(k.c),
        wantMean(k.c), wantInvstd(k.c), wantRm(k.c), wantRv(k.c);
    for (int64_t ch = 0; ch < k.c; ++ch) {
      double mean = 0, var = 0;
      for (int64_t b_ = 0; b_ < k.n; ++b_)
        for (int64_t i = 0; i < k.inner; ++i)
          mean += x[at(b_, ch, i)];
      mean /= count;
      for (int64_t b_ = 0; b_ < k.n; ++b_)
        for (int64_t i = 0; i < k.inner; ++i)
          var += (x[at(b_, ch, i)] - mean) * (x[at(b_, ch, i)] - mean);
      double invstd = 1.0 / std::sqrt(var / count + eps);
      wantMean[ch] = mean;
      wantInvstd[ch] = invstd;
      wantRm[ch] = momentum * mean + (1 - momentum) * rm[ch];
      wantRv[ch] = momentum * var / (count - 1) + (1 - momentum) * rv[ch];
      double sum = 0, dotp = 0;
      for (int64_t b_ = 0; b_ < k.n; ++b_)
        for (int64_t i = 0; i < k.inner; ++i) {
          int64_t j = at(b_, ch, i);
          double xhat = (x[j] - mean) * invstd;
          wantY[j] = xhat * w[ch] + b[ch];
          sum += dy[j];
          dotp += dy[j] * xhat;
        }
      wantDw[ch] = dotp;
      wantDb[ch] = sum;
      // dx = w * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
      for (int64_t b_ = 0; b_ < k.n; ++b_)
        for (int64_t i = 0; i < k.inner; ++i) {
          int64_t j = at(b_, ch, i);
          double xhat = (x[j] - mean) * invstd;
          wantDx[j] =
              w[ch] * invstd * (dy[j] - sum / count - xhat * dotp / count);
        }
    }

    std::vector<float> y(size), mean(k.c), invstd(k.c), dx(size), dw(k.c),
        db(k.c);
    dpcrt_batch_norm_f32(&ctx, y.data(), mean.data(), invstd.data(), rm.data(),
                         rv.data(), x.data(), w.data(), b.data(), k.n, k.c,
                         k.inner, momentum, eps);
    dpcrt_batch_norm_grad_f32(&ctx, dx.data(), dw.data(), db.data(), dy.data(),
                              x.data(), w.data(), mean.data(), invstd.data(),
                              k.n, k.c, k.inner);
    expectClose(mean, wantMean, 1e-6);
    expectClose(invstd, wantInvstd, 1e-6);
    expectClose(rm, wantRm, 1e-6);
    expectClose(rv, wantRv, 1e-6);
    expectClose(y, wantY, 1e-5);
    expectClose(dx, wantDx, 1e-5);
    expectClose(dw, wantDw, 1e-5);
    expectClose(db, wantDb, 1e-5);
  }
}

TEST_F(ConvKernelsTest, BatchNormNeedsTwoValuesPerChannel) {
  std::vector<float> x = {1.0f, 2.0f}, y(2), s(2), r(2, 0.0f), w(2, 1.0f);
  dpcrt_batch_norm_f32(&ctx, y.data(), s.data(), s.data(), r.data(), r.data(),
                       x.data(), w.data(), w.data(), 1, 2, 1, 0.1, 1e-5);
  EXPECT_NE(ctx.error.find("expected more than 1 value per channel"),
            std::string::npos)
      << ctx.error;
  ctx.error.clear();
}

TEST_F(ConvKernelsTest, IncrementInPlace) {
  std::vector<int64_t> n = {0, 41};
  dpcrt_increment_i64(&ctx, n.data(), 2, 1);
  EXPECT_EQ(n, (std::vector<int64_t>{1, 42}));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct PoolCase {
  int64_t planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;
  std::vector<int64_t> dims() const {
    return {planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw};
  }
};

TEST_F(ConvKernelsTest, MaxPool2dForwardAndGradient) {
  // 9x7 input, 3x3 windows, stride 2, padding 1: 5x4; dilated windows;
  // 2x2 windows with stride 3 (gaps between windows).
  for (PoolCase k : {PoolCase{3, 9, 7, 5, 4, 3, 3, 2, 2, 1, 1, 1, 1},
                     PoolCase{2, 10, 10, 8, 8, 3, 3, 1, 1, 1, 1, 2, 2},
                     PoolCase{2, 7, 7, 3, 3, 2, 2, 3, 3, 1, 1, 1, 1}}) {
    int64_t inSize = k.planes * k.h * k.w, outSize = k.planes * k.oh * k.ow;
    std::vector<float> x = randomVector(inSize, 20);
    std::vector<float> dy = randomVector(outSize, 21);
    std::vector<double> wantY(outSize), wantDx(inSize, 0.0);
    for (int64_t p = 0; p < k.planes; ++p)
      for (int64_t y = 0; y < k.oh; ++y)
        for (int64_t xo = 0; xo < k.ow; ++xo) {
          double best = -std::numeric_limits<double>::infinity();
          int64_t arg = -1;
          for (int64_t ky = 0; ky < k.kh; ++ky)
            for (int64_t kx = 0; kx < k.kw; ++kx) {
              int64_t iy = y * k.sh - k.ph + ky * k.dh,
                      ix = xo * k.sw - k.pw + kx * k.dw;
              if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w)
                continue;
              int64_t j = (p * k.h + iy) * k.w + ix;
              if (x[j] > best) {
                best = x[j];
                arg = j;
              }
            }
          int64_t o = (p * k.oh + y) * k.ow + xo;
          wantY[o] = best;
          wantDx[arg] += dy[o];
        }
    std::vector<int64_t> dims = k.dims();
    std::vector<float> y(outSize), dx(inSize, NAN);
    dpcrt_max_pool2d_f32(&ctx, y.data(), x.data(), dims.data());
    dpcrt_max_pool2d_grad_f32(&ctx, dx.data(), dy.data(), x.data(),
                              dims.data());
    expectClose(y, wantY, 0.0);
    expectClose(dx, wantDx, 1e-6);
  }
}

TEST_F(ConvKernelsTest, MaxPool2dNaNWins) {
  std::vector<float> x = {1.0f, NAN, 3.0f, 2.0f}, y(1), dx(4), dy = {1.0f};
  std::vector<int64_t> dims =
      PoolCase{1, 2, 2, 1, 1, 2, 2, 2, 2, 0, 0, 1, 1}.dims();
  dpcrt_max_pool2d_f32(&ctx, y.data(), x.data(), dims.data());
  dpcrt_max_pool2d_grad_f32(&ctx, dx.data(), dy.data(), x.data(), dims.data());
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(dx, (std::vector<float>{0.0f, 1.0f, 0.0f, 0.0f}));
}

TEST_F(ConvKernelsTest, AvgPool2dDivisors) {
  // 7x7, 3x3 windows, stride 2, padding 1, ceil mode: 4x4 outputs, the last
  // windows clipped at the padded input's end.
  PoolCase k{2, 7, 7, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1};
  int64_t inSize = k.planes * k.h * k.w, outSize = k.planes * k.oh * k.ow;
  std::vector<float> x = randomVector(inSize, 30);
  std::vector<float> dy = randomVector(outSize, 31);
  for (int countIncludePad = 0; countIncludePad < 2; ++countIncludePad)
    for (int64_t divisorOverride : {int64_t(0), int64_t(5)}) {
      SCOPED_TRACE("count_include_pad=" + std::to_string(countIncludePad) +
                   " divisor_override=" + std::to_string(divisorOverride));
      std::vector<double> wantY(outSize), wantDx(inSize, 0.0);
      for (int64_t p = 0; p < k.planes; ++p)
        for (int64_t y = 0; y < k.oh; ++y)
          for (int64_t xo = 0; xo < k.ow; ++xo) {
            int64_t y0 = y * k.sh - k.ph, x0 = xo * k.sw - k.pw;
            int64_t y1 = std::min(y0 + k.kh, k.h + k.ph),
                    x1 = std::min(x0 + k.kw, k.w + k.pw);
            int64_t padded = (y1 - y0) * (x1 - x0);
            y0 = std::max<int64_t>(y0, 0);
            x0 = std::max<int64_t>(x0, 0);
            y1 = std::min(y1, k.h);
            x1 = std::min(x1, k.w);
            int64_t divisor = divisorOverride   ? divisorOverride
                              : countIncludePad ? padded
                                                : (y1 - y0) * (x1 - x0);
            int64_t o = (p * k.oh + y) * k.ow + xo;
            double sum = 0;
            for (int64_t iy = y0; iy < y1; ++iy)
              for (int64_t ix = x0; ix < x1; ++ix) {
                sum += x[(p * k.h + iy) * k.w + ix];
                wantDx[(p * k.h + iy) * k.w + ix] += double(dy[o]) / divisor;
              }
            wantY[o] = sum / divisor;
          }
      std::vector<int64_t> dims = k.dims();
      std::vector<float> y(outSize), dx(inSize, NAN);
      dpcrt_avg_pool2d_f32(&ctx, y.data(), x.data(), dims.data(),
                           countIncludePad, divisorOverride);
      dpcrt_avg_pool2d_grad_f32(&ctx, dx.data(), dy.data(), dims.data(),
                                countIncludePad, divisorOverride);
      expectClose(y, wantY, 1e-6);
      expectClose(dx, wantDx, 1e-6);
    }
}

TEST_F(ConvKernelsTest, AdaptiveAvgPool2d) {
  struct Case {
    int64_t h, w, oh, ow;
  };
  // Global pooling, divisible sizes, overlapping windows, and upsampling.
  for (Case k : {Case{4, 4, 1, 1}, Case{8, 6, 2, 3}, Case{7, 9, 3, 4},
                 Case{3, 3, 5, 5}}) {
    SCOPED_TRACE(std::to_string(k.h) + "x" + std::to_string(k.w) + " -> " +
                 std::to_string(k.oh) + "x" + std::to_string(k.ow));
    const int64_t planes = 3;
    std::vector<float> x = randomVector(planes * k.h * k.w, 40);
    std::vector<float> dy = randomVector(planes * k.oh * k.ow, 41);
    std::vector<double> wantY(planes * k.oh * k.ow),
        wantDx(planes * k.h * k.w, 0.0);
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t y = 0; y < k.oh; ++y)
        for (int64_t xo = 0; xo < k.ow; ++xo) {
          int64_t y0 = y * k.h / k.oh, y1 = ((y + 1) * k.h + k.oh - 1) / k.oh;
          int64_t x0 = xo * k.w / k.ow, x1 = ((xo + 1) * k.w + k.ow - 1) / k.ow;
          int64_t size = (y1 - y0) * (x1 - x0), o = (p * k.oh + y) * k.ow + xo;
          double sum = 0;
          for (int64_t iy = y0; iy < y1; ++iy)
            for (int64_t ix = x0; ix < x1; ++ix) {
              sum += x[(p * k.h + iy) * k.w + ix];
              wantDx[(p * k.h + iy) * k.w + ix] += double(dy[o]) / size;
            }
          wantY[o] = sum / size;
        }
    std::vector<float> y(wantY.size()), dx(wantDx.size(), NAN);
    dpcrt_adaptive_avg_pool2d_f32(&ctx, y.data(), x.data(), planes, k.h, k.w,
                                  k.oh, k.ow);
    dpcrt_adaptive_avg_pool2d_grad_f32(&ctx, dx.data(), dy.data(), planes, k.h,
                                       k.w, k.oh, k.ow);
    expectClose(y, wantY, 1e-6);
    expectClose(dx, wantDx, 1e-6);
  }
}

} // namespace
