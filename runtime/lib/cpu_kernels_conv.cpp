//===- cpu_kernels_conv.cpp - CPU kernels for convolution, BN and pooling -===//
//
// Convolutions are im2col + OpenBLAS GEMMs, one per group and chunk of
// samples: a chunk holds enough samples for the GEMM to have at least
// kChunkColumns columns (deep layers have few output pixels per sample, and
// a GEMM with 16 columns runs far below BLAS's peak), and its im2col matrix
// holds the chunk's samples side by side. A 1x1 convolution with stride 1
// and no padding on a one-sample chunk multiplies the input directly. The
// buffers are thread-local and grow to the largest convolution once, so
// steps after the first allocate nothing.
//
// Batch normalization and pooling follow PyTorch's CPU kernels (torch 1.13,
// aten/src/ATen/native/{Normalization.cpp, cpu/batch_norm_kernel.cpp,
// cpu/MaxPoolKernel.cpp, cpu/AvgPoolKernel.cpp,
// cpu/AdaptiveAvgPoolKernel.cpp}) operation by operation: the same
// accumulation types, the same order of float operations and fused
// multiply-adds exactly where PyTorch's AVX2 build fuses them (explicit
// std::fma; this file is compiled with -ffp-contract=off so the compiler
// fuses nothing else). The batch-norm backward reproduces the 8-lane vector
// sums of PyTorch's vec::reduce_all; checked bitwise against torch.
//
//===----------------------------------------------------------------------===//

#include "context.h"
#include "dispatch.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using dpc::recordError;

namespace {

//===----------------------------------------------------------------------===//
// Convolution helpers
//===----------------------------------------------------------------------===//

struct Conv2d {
  int64_t n, c, h, w, o, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, groups;

  explicit Conv2d(const int64_t *d)
      : n(d[DPCRT_CONV2D_N]), c(d[DPCRT_CONV2D_C]), h(d[DPCRT_CONV2D_H]),
        w(d[DPCRT_CONV2D_W]), o(d[DPCRT_CONV2D_O]), kh(d[DPCRT_CONV2D_KH]),
        kw(d[DPCRT_CONV2D_KW]), oh(d[DPCRT_CONV2D_OH]),
        ow(d[DPCRT_CONV2D_OW]), sh(d[DPCRT_CONV2D_STRIDE_H]),
        sw(d[DPCRT_CONV2D_STRIDE_W]), ph(d[DPCRT_CONV2D_PAD_H]),
        pw(d[DPCRT_CONV2D_PAD_W]), dh(d[DPCRT_CONV2D_DILATION_H]),
        dw(d[DPCRT_CONV2D_DILATION_W]), groups(d[DPCRT_CONV2D_GROUPS]) {}

  int64_t cg() const { return c / groups; }    // input channels per group
  int64_t og() const { return o / groups; }    // output channels per group
  int64_t k() const { return cg() * kh * kw; } // GEMM inner dimension
  int64_t l() const { return oh * ow; }        // output pixels
  /// The input is its own im2col matrix.
  bool pointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
  }

  /// Whether the geometry is consistent and every GEMM size fits BLAS's int.
  bool valid() const {
    for (int64_t v : {n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, groups})
      if (v < 1)
        return false;
    if (ph < 0 || pw < 0 || c % groups || o % groups)
      return false;
    if (oh != (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1 ||
        ow != (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1)
      return false;
    return k() <= INT_MAX && l() <= INT_MAX && og() <= INT_MAX;
  }
};

bool checkConv(dpcrt_context *ctx, const char *kernel, const Conv2d &g) {
  if (g.valid())
    return true;
  recordError(ctx, std::string(kernel) + ": invalid geometry (input [" +
                       std::to_string(g.n) + ", " + std::to_string(g.c) +
                       ", " + std::to_string(g.h) + ", " +
                       std::to_string(g.w) + "], output channels " +
                       std::to_string(g.o) + ", groups " +
                       std::to_string(g.groups) + ")");
  return false;
}

/// The GEMM columns a chunk of samples should reach, and the most floats an
/// im2col matrix of several samples may take (one sample may take more).
constexpr int64_t kChunkColumns = 1024;
constexpr int64_t kMaxChunkFloats = int64_t(8) << 20;

/// Samples per chunk for a convolution (at least 1, at most the batch).
int64_t chunkSamples(const Conv2d &g) {
  int64_t samples = (kChunkColumns + g.l() - 1) / g.l();
  samples = std::min(samples, kMaxChunkFloats / std::max<int64_t>(
                                                     g.k() * g.l(), 1));
  return std::clamp<int64_t>(samples, 1, g.n);
}

/// Per-thread buffer `which` (0: im2col matrix, 1: a chunk's outputs), at
/// least `n` floats.
float *workspace(int which, int64_t n) {
  thread_local std::vector<float> buffers[2];
  std::vector<float> &buffer = buffers[which];
  if (static_cast<int64_t>(buffer.size()) < n)
    buffer.resize(static_cast<size_t>(n));
  return buffer.data();
}

/// cols [K, L] of one group of one sample, rows `ld` floats apart: in
/// points at the group's first channel.
void im2col(const Conv2d &g, const float *in, float *cols, int64_t ld) {
  for (int64_t ci = 0; ci < g.cg(); ++ci)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        float *row = cols + ((ci * g.kh + ki) * g.kw + kj) * ld;
        const float *plane = in + ci * g.h * g.w;
        for (int64_t y = 0; y < g.oh; ++y) {
          int64_t iy = y * g.sh - g.ph + ki * g.dh;
          float *dst = row + y * g.ow;
          if (iy < 0 || iy >= g.h) {
            std::fill(dst, dst + g.ow, 0.0f);
            continue;
          }
          for (int64_t x = 0; x < g.ow; ++x) {
            int64_t ix = x * g.sw - g.pw + kj * g.dw;
            dst[x] = (ix < 0 || ix >= g.w) ? 0.0f : plane[iy * g.w + ix];
          }
        }
      }
}

/// The adjoint of im2col: adds cols [K, L] (rows `ld` floats apart) into
/// one group of one sample.
void col2im(const Conv2d &g, const float *cols, int64_t ld, float *in) {
  for (int64_t ci = 0; ci < g.cg(); ++ci)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const float *row = cols + ((ci * g.kh + ki) * g.kw + kj) * ld;
        float *plane = in + ci * g.h * g.w;
        for (int64_t y = 0; y < g.oh; ++y) {
          int64_t iy = y * g.sh - g.ph + ki * g.dh;
          if (iy < 0 || iy >= g.h)
            continue;
          const float *src = row + y * g.ow;
          for (int64_t x = 0; x < g.ow; ++x) {
            int64_t ix = x * g.sw - g.pw + kj * g.dw;
            if (ix >= 0 && ix < g.w)
              plane[iy * g.w + ix] += src[x];
          }
        }
      }
}

/// Copies group `grp` of samples [n0, n0 + nc) of an [N, O, L] tensor into
/// block [Og, nc * L], sample j in columns [j * L, (j + 1) * L).
void gatherChunk(const Conv2d &g, int64_t n0, int64_t nc, int64_t grp,
                 const float *tensor, float *block) {
  int64_t l = g.l(), og = g.og();
  for (int64_t j = 0; j < nc; ++j)
    for (int64_t o = 0; o < og; ++o)
      std::memcpy(block + o * nc * l + j * l,
                  tensor + ((n0 + j) * g.o + grp * og + o) * l,
                  static_cast<size_t>(l) * sizeof(float));
}

/// The inverse of gatherChunk: block [Og, nc * L] back into the tensor.
void scatterChunk(const Conv2d &g, int64_t n0, int64_t nc, int64_t grp,
                  const float *block, float *tensor) {
  int64_t l = g.l(), og = g.og();
  for (int64_t j = 0; j < nc; ++j)
    for (int64_t o = 0; o < og; ++o)
      std::memcpy(tensor + ((n0 + j) * g.o + grp * og + o) * l,
                  block + o * nc * l + j * l,
                  static_cast<size_t>(l) * sizeof(float));
}

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
           const float *a, int64_t lda, const float *b, int64_t ldb,
           float beta, float *c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
              transB ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
              static_cast<int>(ldc));
}

//===----------------------------------------------------------------------===//
// PyTorch's vector reductions (vec::reduce_all, vec::map2_reduce_all) with
// AVX2's 8 float lanes.
//===----------------------------------------------------------------------===//

constexpr int kLanes = 8;

/// The horizontal sum of a full vector: halves added pairwise.
float horizontalSum(float (&acc)[kLanes]) {
  for (int width = kLanes / 2; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i)
      acc[i] = acc[i] + acc[i + width];
  return acc[0];
}

/// vec::reduce_all(x + y, data, size).
float laneSum(const float *data, int64_t size) {
  if (size < kLanes) {
    // A partial vector is summed lane by lane.
    float s = size > 0 ? data[0] : 0.0f;
    for (int64_t i = 1; i < size; ++i)
      s = s + data[i];
    return s;
  }
  float acc[kLanes];
  std::copy(data, data + kLanes, acc);
  int64_t d = kLanes;
  for (; d < size - size % kLanes; d += kLanes)
    for (int i = 0; i < kLanes; ++i)
      acc[i] = acc[i] + data[d + i];
  for (int64_t i = 0; i < size - d; ++i)
    acc[i] = acc[i] + data[d + i];
  return horizontalSum(acc);
}

/// vec::map2_reduce_all((x - mean) * dy, x + y, x, dy, size), with the
/// multiply-add that GCC fuses in PyTorch's AVX2 build.
float laneDot(const float *x, float mean, const float *dy, int64_t size) {
  if (size < kLanes) {
    float s = size > 0 ? (x[0] - mean) * dy[0] : 0.0f;
    for (int64_t i = 1; i < size; ++i)
      s = s + (x[i] - mean) * dy[i];
    return s;
  }
  float acc[kLanes];
  for (int i = 0; i < kLanes; ++i)
    acc[i] = (x[i] - mean) * dy[i];
  int64_t d = kLanes;
  for (; d < size - size % kLanes; d += kLanes)
    for (int i = 0; i < kLanes; ++i)
      acc[i] = std::fma(x[d + i] - mean, dy[d + i], acc[i]);
  for (int64_t i = 0; i < size - d; ++i)
    acc[i] = std::fma(x[d + i] - mean, dy[d + i], acc[i]);
  return horizontalSum(acc);
}

//===----------------------------------------------------------------------===//
// Pooling helpers
//===----------------------------------------------------------------------===//

struct Pool2d {
  int64_t planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;

  explicit Pool2d(const int64_t *d)
      : planes(d[DPCRT_POOL2D_PLANES]), h(d[DPCRT_POOL2D_H]),
        w(d[DPCRT_POOL2D_W]), oh(d[DPCRT_POOL2D_OH]), ow(d[DPCRT_POOL2D_OW]),
        kh(d[DPCRT_POOL2D_KH]), kw(d[DPCRT_POOL2D_KW]),
        sh(d[DPCRT_POOL2D_STRIDE_H]), sw(d[DPCRT_POOL2D_STRIDE_W]),
        ph(d[DPCRT_POOL2D_PAD_H]), pw(d[DPCRT_POOL2D_PAD_W]),
        dh(d[DPCRT_POOL2D_DILATION_H]), dw(d[DPCRT_POOL2D_DILATION_W]) {}

  bool valid() const {
    for (int64_t v : {h, w, oh, ow, kh, kw, sh, sw, dh, dw})
      if (v < 1)
        return false;
    return planes >= 0 && ph >= 0 && pw >= 0;
  }

  /// The index (in its plane) of the first maximum of output (y, x)'s
  /// window, as PyTorch's cpu_max_pool; -1 for a window of padding only.
  int64_t argmax(const float *plane, int64_t y, int64_t x) const {
    int64_t y0 = y * sh - ph, x0 = x * sw - pw;
    int64_t y1 = std::min(y0 + (kh - 1) * dh + 1, h);
    int64_t x1 = std::min(x0 + (kw - 1) * dw + 1, w);
    while (y0 < 0)
      y0 += dh;
    while (x0 < 0)
      x0 += dw;
    int64_t index = y0 * w + x0;
    float best = -std::numeric_limits<float>::infinity();
    for (int64_t iy = y0; iy < y1; iy += dh)
      for (int64_t ix = x0; ix < x1; ix += dw) {
        float v = plane[iy * w + ix];
        if (v > best || std::isnan(v)) {
          best = v;
          index = iy * w + ix;
        }
      }
    return (y0 < y1 && x0 < x1) ? index : -1;
  }

  /// Output (y, x)'s average window, clipped to the input, and its divisor.
  struct Window {
    int64_t y0, y1, x0, x1, divisor;
  };
  Window avgWindow(int64_t y, int64_t x, bool countIncludePad,
                   int64_t divisorOverride) const {
    Window win;
    win.y0 = y * sh - ph;
    win.x0 = x * sw - pw;
    win.y1 = std::min(win.y0 + kh, h + ph);
    win.x1 = std::min(win.x0 + kw, w + pw);
    int64_t poolSize = (win.y1 - win.y0) * (win.x1 - win.x0);
    win.y0 = std::max<int64_t>(win.y0, 0);
    win.x0 = std::max<int64_t>(win.x0, 0);
    win.y1 = std::min(win.y1, h);
    win.x1 = std::min(win.x1, w);
    win.divisor = divisorOverride != 0 ? divisorOverride
                  : countIncludePad    ? poolSize
                                       : (win.y1 - win.y0) * (win.x1 - win.x0);
    return win;
  }
};

bool checkPool(dpcrt_context *ctx, const char *kernel, const Pool2d &g) {
  if (g.valid())
    return true;
  recordError(ctx, std::string(kernel) + ": invalid pooling geometry");
  return false;
}

int64_t startIndex(int64_t i, int64_t out, int64_t in) {
  return (i * in) / out;
}
int64_t endIndex(int64_t i, int64_t out, int64_t in) {
  return ((i + 1) * in + out - 1) / out;
}

} // namespace

extern "C" {

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

void dpcrt_conv2d_f32(dpcrt_context *ctx, float *out, const float *in,
                      const float *weight, const float *bias,
                      const int64_t *dims) {
  DPC_DISPATCH(conv2d_f32, ctx, out, in, weight, bias, dims);
  Conv2d g(dims);
  if (!checkConv(ctx, "conv2d", g))
    return;
  int64_t k = g.k(), l = g.l(), og = g.og(), chunk = chunkSamples(g);
  bool direct = g.pointwise() && chunk == 1;
  float *cols = direct ? nullptr : workspace(0, k * chunk * l);
  float *block = chunk == 1 ? nullptr : workspace(1, og * chunk * l);
  for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
    int64_t nc = std::min(chunk, g.n - n0), ld = nc * l;
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const float *x = in + (n0 * g.c + grp * g.cg()) * g.h * g.w;
      for (int64_t j = 0; cols && j < nc; ++j)
        im2col(g, x + j * g.c * g.h * g.w, cols + j * l, ld);
      // y [Og, nc * L] = W_g [Og, K] @ cols [K, nc * L]
      float *y = block ? block : out + (n0 * g.o + grp * og) * l;
      sgemm(false, false, og, ld, k, weight + grp * og * k, k,
            cols ? cols : x, ld, 0.0f, y, ld);
      if (block)
        scatterChunk(g, n0, nc, grp, block, out);
    }
  }
  if (bias)
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t o = 0; o < g.o; ++o) {
        float *y = out + (n * g.o + o) * l, b = bias[o];
        for (int64_t i = 0; i < l; ++i)
          y[i] += b;
      }
}

void dpcrt_conv2d_input_grad_f32(dpcrt_context *ctx, float *dx,
                                 const float *dy, const float *weight,
                                 const int64_t *dims) {
  DPC_DISPATCH(conv2d_input_grad_f32, ctx, dx, dy, weight, dims);
  Conv2d g(dims);
  if (!checkConv(ctx, "conv2d_input_grad", g))
    return;
  int64_t k = g.k(), l = g.l(), og = g.og(), chunk = chunkSamples(g);
  bool direct = g.pointwise() && chunk == 1;
  float *cols = direct ? nullptr : workspace(0, k * chunk * l);
  float *block = chunk == 1 ? nullptr : workspace(1, og * chunk * l);
  if (!direct)
    std::fill(dx, dx + g.n * g.c * g.h * g.w, 0.0f);
  for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
    int64_t nc = std::min(chunk, g.n - n0), ld = nc * l;
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      float *x = dx + (n0 * g.c + grp * g.cg()) * g.h * g.w;
      const float *y = dy + (n0 * g.o + grp * og) * l;
      if (block) {
        gatherChunk(g, n0, nc, grp, dy, block);
        y = block;
      }
      // dcols [K, nc * L] = W_g^T [K, Og] @ dy_g [Og, nc * L]
      sgemm(true, false, k, ld, og, weight + grp * og * k, k, y, ld, 0.0f,
            direct ? x : cols, ld);
      for (int64_t j = 0; !direct && j < nc; ++j)
        col2im(g, cols + j * l, ld, x + j * g.c * g.h * g.w);
    }
  }
}

void dpcrt_conv2d_weight_grad_f32(dpcrt_context *ctx, float *dweight,
                                  const float *dy, const float *in,
                                  const int64_t *dims) {
  DPC_DISPATCH(conv2d_weight_grad_f32, ctx, dweight, dy, in, dims);
  Conv2d g(dims);
  if (!checkConv(ctx, "conv2d_weight_grad", g))
    return;
  int64_t k = g.k(), l = g.l(), og = g.og(), chunk = chunkSamples(g);
  bool direct = g.pointwise() && chunk == 1;
  float *cols = direct ? nullptr : workspace(0, k * chunk * l);
  float *block = chunk == 1 ? nullptr : workspace(1, og * chunk * l);
  for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
    int64_t nc = std::min(chunk, g.n - n0), ld = nc * l;
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const float *x = in + (n0 * g.c + grp * g.cg()) * g.h * g.w;
      const float *y = dy + (n0 * g.o + grp * og) * l;
      for (int64_t j = 0; cols && j < nc; ++j)
        im2col(g, x + j * g.c * g.h * g.w, cols + j * l, ld);
      if (block) {
        gatherChunk(g, n0, nc, grp, dy, block);
        y = block;
      }
      // dW_g [Og, K] (+)= dy_g [Og, nc * L] @ cols^T [nc * L, K]
      sgemm(false, true, og, k, ld, y, ld, cols ? cols : x, ld,
            n0 == 0 ? 0.0f : 1.0f, dweight + grp * og * k, k);
    }
  }
}

//===----------------------------------------------------------------------===//
// batch_norm
//===----------------------------------------------------------------------===//

void dpcrt_batch_norm_f32(dpcrt_context *ctx, float *out, float *saveMean,
                          float *saveInvstd, float *runningMean,
                          float *runningVar, const float *in,
                          const float *weight, const float *bias, int64_t n,
                          int64_t c, int64_t inner, double momentum,
                          double eps) {
  DPC_DISPATCH(batch_norm_f32, ctx, out, saveMean, saveInvstd, runningMean,
               runningVar, in, weight, bias, n, c, inner, momentum, eps);
  int64_t count = n * inner;
  if (n < 0 || c < 0 || inner < 0 || count < 2) {
    recordError(ctx, "batch_norm: expected more than 1 value per channel "
                     "when training, got " +
                         std::to_string(count));
    return;
  }
  float momentumF = static_cast<float>(momentum);
  for (int64_t ch = 0; ch < c; ++ch) {
    // batch_norm_cpu_collect_stats_contiguous_impl: double accumulators.
    double sum = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i)
        sum += x[i];
    }
    float mean = static_cast<float>(sum / static_cast<double>(count));
    double varSumAcc = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        float d = x[i] - mean;
        varSumAcc += d * d;
      }
    }
    float varSum = static_cast<float>(varSumAcc);

    // batch_norm_cpu_update_stats_template: InvStd<double> of the float
    // biased variance; running statistics in float, the unbiased variance
    // as a double.
    double var = varSum / static_cast<float>(count);
    float invstd = 0.0f;
    if (var != 0.0 || eps != 0.0)
      invstd = static_cast<float>(1.0 / std::sqrt(var + eps));
    saveMean[ch] = mean;
    saveInvstd[ch] = invstd;
    runningMean[ch] =
        momentumF * mean + (1.0f - momentumF) * runningMean[ch];
    double unbiased = varSum / static_cast<float>(count - 1);
    runningVar[ch] = static_cast<float>(
        momentumF * unbiased + (1.0f - momentumF) * runningVar[ch]);

    // batch_norm_cpu_contiguous_impl: y = x * alpha + beta, fused.
    float alpha = invstd * weight[ch];
    float beta = std::fma(-mean, alpha, bias[ch]);
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      float *y = out + (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i)
        y[i] = std::fma(x[i], alpha, beta);
    }
  }
}

void dpcrt_batch_norm_grad_f32(dpcrt_context *ctx, float *dx, float *dweight,
                               float *dbias, const float *dy, const float *in,
                               const float *weight, const float *saveMean,
                               const float *saveInvstd, int64_t n, int64_t c,
                               int64_t inner) {
  DPC_DISPATCH(batch_norm_grad_f32, ctx, dx, dweight, dbias, dy, in, weight,
               saveMean, saveInvstd, n, c, inner);
  int64_t count = n * inner;
  if (n < 0 || c < 0 || inner < 0 || count < 1) {
    recordError(ctx, "batch_norm_grad: empty input");
    return;
  }
  for (int64_t ch = 0; ch < c; ++ch) {
    float mean = saveMean[ch], invstd = saveInvstd[ch], w = weight[ch];
    double sum = 0.0, dotp = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      const float *g = dy + (b * c + ch) * inner;
      sum += laneSum(g, inner);
      dotp += laneDot(x, mean, g, inner);
    }
    float k = static_cast<float>(dotp) * invstd * invstd /
              static_cast<float>(count);
    float gradMean = static_cast<float>(sum / static_cast<double>(count));
    for (int64_t b = 0; b < n; ++b) {
      const float *x = in + (b * c + ch) * inner;
      const float *g = dy + (b * c + ch) * inner;
      float *d = dx + (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i)
        d[i] = std::fma(-(x[i] - mean), k, g[i] - gradMean) * invstd * w;
    }
    dweight[ch] = static_cast<float>(dotp * invstd);
    dbias[ch] = static_cast<float>(sum);
  }
}

void dpcrt_increment_i64(dpcrt_context *ctx, int64_t *data, int64_t n,
                         int64_t amount) {
  DPC_DISPATCH(increment_i64, ctx, data, n, amount);
  for (int64_t i = 0; i < n; ++i)
    data[i] += amount;
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

void dpcrt_max_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                          const int64_t *dims) {
  DPC_DISPATCH(max_pool2d_f32, ctx, out, in, dims);
  Pool2d g(dims);
  if (!checkPool(ctx, "max_pool2d", g))
    return;
  for (int64_t p = 0; p < g.planes; ++p) {
    const float *plane = in + p * g.h * g.w;
    float *o = out + p * g.oh * g.ow;
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        int64_t index = g.argmax(plane, y, x);
        o[y * g.ow + x] = index < 0 ? -std::numeric_limits<float>::infinity()
                                    : plane[index];
      }
  }
}

void dpcrt_max_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                               const float *in, const int64_t *dims) {
  DPC_DISPATCH(max_pool2d_grad_f32, ctx, dx, dy, in, dims);
  Pool2d g(dims);
  if (!checkPool(ctx, "max_pool2d_grad", g))
    return;
  std::fill(dx, dx + g.planes * g.h * g.w, 0.0f);
  for (int64_t p = 0; p < g.planes; ++p) {
    const float *plane = in + p * g.h * g.w;
    const float *d = dy + p * g.oh * g.ow;
    float *grad = dx + p * g.h * g.w;
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        int64_t index = g.argmax(plane, y, x);
        if (index >= 0)
          grad[index] += d[y * g.ow + x];
      }
  }
}

void dpcrt_avg_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                          const int64_t *dims, int32_t countIncludePad,
                          int64_t divisorOverride) {
  DPC_DISPATCH(avg_pool2d_f32, ctx, out, in, dims, countIncludePad,
               divisorOverride);
  Pool2d g(dims);
  if (!checkPool(ctx, "avg_pool2d", g))
    return;
  for (int64_t p = 0; p < g.planes; ++p) {
    const float *plane = in + p * g.h * g.w;
    float *o = out + p * g.oh * g.ow;
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        auto win = g.avgWindow(y, x, countIncludePad, divisorOverride);
        float sum = 0.0f;
        for (int64_t iy = win.y0; iy < win.y1; ++iy)
          for (int64_t ix = win.x0; ix < win.x1; ++ix)
            sum += plane[iy * g.w + ix];
        o[y * g.ow + x] = (win.y0 >= win.y1 || win.x0 >= win.x1)
                              ? 0.0f
                              : sum / static_cast<float>(win.divisor);
      }
  }
}

void dpcrt_avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                               const int64_t *dims, int32_t countIncludePad,
                               int64_t divisorOverride) {
  DPC_DISPATCH(avg_pool2d_grad_f32, ctx, dx, dy, dims, countIncludePad,
               divisorOverride);
  Pool2d g(dims);
  if (!checkPool(ctx, "avg_pool2d_grad", g))
    return;
  std::fill(dx, dx + g.planes * g.h * g.w, 0.0f);
  for (int64_t p = 0; p < g.planes; ++p) {
    const float *d = dy + p * g.oh * g.ow;
    float *grad = dx + p * g.h * g.w;
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        auto win = g.avgWindow(y, x, countIncludePad, divisorOverride);
        float delta = d[y * g.ow + x] / static_cast<float>(win.divisor);
        for (int64_t iy = win.y0; iy < win.y1; ++iy)
          for (int64_t ix = win.x0; ix < win.x1; ++ix)
            grad[iy * g.w + ix] += delta;
      }
  }
}

void dpcrt_adaptive_avg_pool2d_f32(dpcrt_context *ctx, float *out,
                                   const float *in, int64_t planes, int64_t h,
                                   int64_t w, int64_t oh, int64_t ow) {
  DPC_DISPATCH(adaptive_avg_pool2d_f32, ctx, out, in, planes, h, w, oh, ow);
  if (planes < 0 || h < 1 || w < 1 || oh < 1 || ow < 1) {
    recordError(ctx, "adaptive_avg_pool2d: invalid sizes");
    return;
  }
  for (int64_t p = 0; p < planes; ++p) {
    const float *plane = in + p * h * w;
    float *o = out + p * oh * ow;
    if (oh == 1 && ow == 1) {
      // mean(dim=(-1, -2)): the sum, rounded to float, divided by h * w.
      double sum = 0.0;
      for (int64_t i = 0; i < h * w; ++i)
        sum += plane[i];
      o[0] = static_cast<float>(sum) / static_cast<float>(h * w);
      continue;
    }
    for (int64_t y = 0; y < oh; ++y) {
      int64_t y0 = startIndex(y, oh, h), y1 = endIndex(y, oh, h);
      for (int64_t x = 0; x < ow; ++x) {
        int64_t x0 = startIndex(x, ow, w), x1 = endIndex(x, ow, w);
        float sum = 0.0f;
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix)
            sum += plane[iy * w + ix];
        o[y * ow + x] = sum / static_cast<float>(y1 - y0) /
                        static_cast<float>(x1 - x0);
      }
    }
  }
}

void dpcrt_adaptive_avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx,
                                        const float *dy, int64_t planes,
                                        int64_t h, int64_t w, int64_t oh,
                                        int64_t ow) {
  DPC_DISPATCH(adaptive_avg_pool2d_grad_f32, ctx, dx, dy, planes, h, w, oh, ow);
  if (planes < 0 || h < 1 || w < 1 || oh < 1 || ow < 1) {
    recordError(ctx, "adaptive_avg_pool2d_grad: invalid sizes");
    return;
  }
  for (int64_t p = 0; p < planes; ++p) {
    const float *d = dy + p * oh * ow;
    float *grad = dx + p * h * w;
    if (oh == 1 && ow == 1) {
      float delta = d[0] / static_cast<float>(h * w);
      std::fill(grad, grad + h * w, delta);
      continue;
    }
    std::fill(grad, grad + h * w, 0.0f);
    for (int64_t y = 0; y < oh; ++y) {
      int64_t y0 = startIndex(y, oh, h), y1 = endIndex(y, oh, h);
      for (int64_t x = 0; x < ow; ++x) {
        int64_t x0 = startIndex(x, ow, w), x1 = endIndex(x, ow, w);
        float delta = d[y * ow + x] / static_cast<float>(y1 - y0) /
                      static_cast<float>(x1 - x0);
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix)
            grad[iy * w + ix] += delta;
      }
    }
  }
}

} // extern "C"
