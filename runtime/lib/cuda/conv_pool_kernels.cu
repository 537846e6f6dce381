//===- conv_pool_kernels.cu - CUDA kernels of convolution and pooling -----===//
//
// The CUDA counterparts of cpu/conv_pool_kernels.cpp, with the same ABI
// semantics (abi.h). Convolutions run on cuDNN's legacy convolution API
// (still shipped, deprecated, in cuDNN 9's cudnn_cnn.h) with deterministic
// algorithms and FMA math (no TF32 unless DPC_ALLOW_TF32=1); their sums are
// reassociated relative to the CPU's oneDNN kernels, so they agree to
// rounding, not bitwise.
//
// Pooling kernels follow the CPU kernels operation by operation, with the
// window arithmetic of kernel_shared.h; where the CPU adds in a fixed order
// in float, the kernels here add in that same order (they gather per input
// element rather than scatter with atomics), so they agree bitwise.
//
// Like the CPU kernels (-ffp-contract=off), this file must be compiled with
// -fmad=false and without --use_fast_math: fused multiply-adds appear only
// where written (__fmaf_rn, where the CPU calls std::fma), and division and
// sqrt are IEEE-rounded.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace dpc::cuda {
namespace {

//===----------------------------------------------------------------------===//
// Convolution (cuDNN)
//===----------------------------------------------------------------------===//

/// A convolution's geometry that cuDNN can take.
struct Conv2d : Conv2dGeometry {
  using Conv2dGeometry::Conv2dGeometry;

  /// The CPU kernels' check, plus cuDNN's int dimensions (and int element
  /// counts per tensor, which its 4-d descriptors compute strides in).
  bool valid() const {
    if (!consistent())
      return false;
    for (int64_t v : {n, c, h, w, o, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw})
      if (v > INT_MAX)
        return false;
    return n * c * h * w <= INT_MAX && n * o * oh * ow <= INT_MAX &&
           o * (c / groups) * kh * kw <= INT_MAX;
  }
};

bool checkConv(dpcrt_context *ctx, const char *kernel, const Conv2d &g) {
  if (g.valid())
    return true;
  recordError(ctx, g.invalidMessage(kernel));
  return false;
}

/// TF32 tensor cores round the inputs of every product to 10 mantissa bits,
/// far outside the CPU backend's float32 results; they are opt-in, as
/// torch.backends.cudnn.allow_tf32 = False. Note that CUDNN_DEFAULT_MATH
/// *permits* TF32 for float convolutions on Ampere and later: only
/// CUDNN_FMA_MATH excludes it (what PyTorch sets without allow_tf32).
bool allowTf32() {
  static const bool allow = [] {
    const char *v = std::getenv("DPC_ALLOW_TF32");
    return v && std::strcmp(v, "1") == 0;
  }();
  return allow;
}
cudnnMathType_t convMathType() {
  return allowTf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
}
bool acceptableMath(cudnnMathType_t m) {
  return allowTf32() || m == CUDNN_FMA_MATH || m == CUDNN_DEFAULT_MATH;
}

/// The cuDNN descriptors of one convolution, created per call (a few
/// microseconds of host work; caching them by geometry is a later
/// optimization) and destroyed with this object.
class ConvDescriptors {
public:
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  ~ConvDescriptors() {
    if (conv)
      cudnnDestroyConvolutionDescriptor(conv);
    if (w)
      cudnnDestroyFilterDescriptor(w);
    if (y)
      cudnnDestroyTensorDescriptor(y);
    if (x)
      cudnnDestroyTensorDescriptor(x);
  }

  /// Creates and sets every descriptor; false (error recorded) on failure.
  bool init(dpcrt_context *ctx, const Conv2d &g, const char *kernel) {
    std::string what = std::string(kernel) + ": ";
    auto i = [](int64_t v) { return static_cast<int>(v); };
    if (failed(ctx, cudnnCreateTensorDescriptor(&x),
               (what + "cudnnCreateTensorDescriptor").c_str()) ||
        failed(ctx, cudnnCreateTensorDescriptor(&y),
               (what + "cudnnCreateTensorDescriptor").c_str()) ||
        failed(ctx, cudnnCreateFilterDescriptor(&w),
               (what + "cudnnCreateFilterDescriptor").c_str()) ||
        failed(ctx, cudnnCreateConvolutionDescriptor(&conv),
               (what + "cudnnCreateConvolutionDescriptor").c_str()))
      return false;
    if (failed(ctx,
               cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW,
                                          CUDNN_DATA_FLOAT, i(g.n), i(g.c),
                                          i(g.h), i(g.w)),
               (what + "input descriptor").c_str()) ||
        failed(ctx,
               cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW,
                                          CUDNN_DATA_FLOAT, i(g.n), i(g.o),
                                          i(g.oh), i(g.ow)),
               (what + "output descriptor").c_str()) ||
        failed(ctx,
               cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT,
                                          CUDNN_TENSOR_NCHW, i(g.o),
                                          i(g.c / g.groups), i(g.kh), i(g.kw)),
               (what + "filter descriptor").c_str()) ||
        failed(ctx,
               cudnnSetConvolution2dDescriptor(
                   conv, i(g.ph), i(g.pw), i(g.sh), i(g.sw), i(g.dh), i(g.dw),
                   CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
               (what + "convolution descriptor").c_str()) ||
        failed(ctx, cudnnSetConvolutionGroupCount(conv, i(g.groups)),
               (what + "cudnnSetConvolutionGroupCount").c_str()) ||
        failed(ctx, cudnnSetConvolutionMathType(conv, convMathType()),
               (what + "cudnnSetConvolutionMathType").c_str()))
      return false;
    // The ABI's output size and cuDNN's must agree, or cuDNN would read or
    // write outside the tensors.
    int dn = 0, dc = 0, dhh = 0, dww = 0;
    if (failed(ctx,
               cudnnGetConvolution2dForwardOutputDim(conv, x, w, &dn, &dc, &dhh,
                                                     &dww),
               (what + "cudnnGetConvolution2dForwardOutputDim").c_str()))
      return false;
    if (dn != g.n || dc != g.o || dhh != g.oh || dww != g.ow) {
      recordError(ctx,
                  what + "cuDNN computes output [" + std::to_string(dn) + ", " +
                      std::to_string(dc) + ", " + std::to_string(dhh) + ", " +
                      std::to_string(dww) + "], the module expects [" +
                      std::to_string(g.n) + ", " + std::to_string(g.o) + ", " +
                      std::to_string(g.oh) + ", " + std::to_string(g.ow) + "]");
      return false;
    }
    return true;
  }
};

/// The cuDNN handle, bound to the compute stream (cheap; it keeps every
/// cuDNN call of this file on that stream whatever else used the handle).
cudnnHandle_t cudnnOn(dpcrt_context *ctx, const char *kernel) {
  DeviceState &st = state(ctx);
  if (failed(ctx, cudnnSetStream(st.cudnn, st.compute),
             (std::string(kernel) + ": cudnnSetStream").c_str()))
    return nullptr;
  return st.cudnn;
}

/// Whether an algorithm sums the products directly (GEMM-like, direct).
/// FFT and Winograd algorithms transform the operands first, which costs
/// digits: their results drift further from the CPU's GEMM than the
/// reassociation of a direct sum does, so they are not used.
bool directSum(cudnnConvolutionFwdAlgo_t a) {
  return a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
         a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ||
         a == CUDNN_CONVOLUTION_FWD_ALGO_GEMM ||
         a == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
}
bool directSum(cudnnConvolutionBwdDataAlgo_t a) {
  return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 ||
         a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
}
bool directSum(cudnnConvolutionBwdFilterAlgo_t a) {
  return a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 ||
         a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1 ||
         a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
}

/// Picks the first algorithm of cuDNN's heuristic ranking (the _v7 query:
/// a pure function of the descriptors and the device, unlike the timing
/// cudnnFind*, so every run picks the same one) that is deterministic, sums
/// directly, uses an allowed math type and whose workspace size can be
/// queried; falls back to `fallback`. Perf is cudnnConvolution*AlgoPerf_t.
template <typename Perf, typename Algo, typename Workspace>
bool pickAlgorithm(dpcrt_context *ctx, const char *kernel, const Perf *perf,
                   int returned, Algo fallback, Workspace workspaceOf,
                   Algo &algo, size_t &bytes) {
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS ||
        perf[i].determinism != CUDNN_DETERMINISTIC ||
        !directSum(perf[i].algo) || !acceptableMath(perf[i].mathType))
      continue;
    if (workspaceOf(perf[i].algo, bytes) == CUDNN_STATUS_SUCCESS) {
      algo = perf[i].algo;
      return true;
    }
  }
  algo = fallback;
  return !failed(
      ctx, workspaceOf(fallback, bytes),
      (std::string(kernel) + ": no deterministic algorithm").c_str());
}

/// Workspace of `bytes` from the context's scratch memory (null for none);
/// false when the allocation failed (error recorded by scratch()).
bool workspace(dpcrt_context *ctx, size_t bytes, void *&ptr) {
  ptr = nullptr;
  if (bytes == 0)
    return true;
  ptr = scratch(ctx, bytes);
  return ptr != nullptr;
}

__global__ void addBiasKernel(float *out, const float *bias, int64_t planes,
                              int64_t channels, int64_t l) {
  int64_t total = planes * l;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       i < total; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] += bias[(i / l) % channels];
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// Outputs along one axis whose window (start o*stride - pad, extent
/// `span`) can contain input position i: [first, last], clipped. A
/// superset is fine (callers test membership); it only bounds the loops.
__device__ void poolCandidates(int64_t i, int64_t stride, int64_t pad,
                               int64_t span, int64_t outSize, int64_t &first,
                               int64_t &last) {
  int64_t lo = i + pad - span + 1; // o * stride >= lo
  first = lo <= 0 ? 0 : (lo + stride - 1) / stride;
  last = min((i + pad) / stride, outSize - 1);
}

bool checkPool(dpcrt_context *ctx, const char *kernel, const Pool2d &g) {
  if (g.valid())
    return true;
  recordError(ctx, std::string(kernel) + ": invalid pooling geometry");
  return false;
}

__global__ void maxPoolKernel(float *out, const float *in, Pool2d g) {
  DPC_GRID_STRIDE(i, g.planes * g.oh * g.ow) {
    int64_t p = i / (g.oh * g.ow), y = i / g.ow % g.oh, x = i % g.ow;
    const float *plane = in + p * g.h * g.w;
    int64_t index = g.argmax(plane, y, x);
    out[i] = index < 0 ? -INFINITY : plane[index];
  }
}

/// One thread per input element: the sum, in the CPU's output order, of dy
/// over the windows whose first maximum it is (recomputed).
__global__ void maxPoolGradKernel(float *dx, const float *dy, const float *in,
                                  Pool2d g) {
  DPC_GRID_STRIDE(i, g.planes * g.h * g.w) {
    int64_t p = i / (g.h * g.w), iy = i / g.w % g.h, ix = i % g.w;
    int64_t self = iy * g.w + ix;
    const float *plane = in + p * g.h * g.w;
    const float *d = dy + p * g.oh * g.ow;
    int64_t y0, y1, x0, x1;
    poolCandidates(iy, g.sh, g.ph, (g.kh - 1) * g.dh + 1, g.oh, y0, y1);
    poolCandidates(ix, g.sw, g.pw, (g.kw - 1) * g.dw + 1, g.ow, x0, x1);
    float grad = 0.0f;
    for (int64_t y = y0; y <= y1; ++y)
      for (int64_t x = x0; x <= x1; ++x)
        if (g.argmax(plane, y, x) == self)
          grad += d[y * g.ow + x];
    dx[i] = grad;
  }
}

__global__ void avgPoolKernel(float *out, const float *in, Pool2d g,
                              bool countIncludePad, int64_t divisorOverride) {
  DPC_GRID_STRIDE(i, g.planes * g.oh * g.ow) {
    int64_t p = i / (g.oh * g.ow), y = i / g.ow % g.oh, x = i % g.ow;
    const float *plane = in + p * g.h * g.w;
    auto win = g.avgWindow(y, x, countIncludePad, divisorOverride);
    float sum = 0.0f;
    for (int64_t iy = win.y0; iy < win.y1; ++iy)
      for (int64_t ix = win.x0; ix < win.x1; ++ix)
        sum += plane[iy * g.w + ix];
    out[i] = (win.y0 >= win.y1 || win.x0 >= win.x1)
                 ? 0.0f
                 : sum / static_cast<float>(win.divisor);
  }
}

/// One thread per input element: the CPU's deltas of the windows that
/// contain it, added in output order.
__global__ void avgPoolGradKernel(float *dx, const float *dy, Pool2d g,
                                  bool countIncludePad,
                                  int64_t divisorOverride) {
  DPC_GRID_STRIDE(i, g.planes * g.h * g.w) {
    int64_t p = i / (g.h * g.w), iy = i / g.w % g.h, ix = i % g.w;
    const float *d = dy + p * g.oh * g.ow;
    int64_t y0, y1, x0, x1;
    poolCandidates(iy, g.sh, g.ph, g.kh, g.oh, y0, y1);
    poolCandidates(ix, g.sw, g.pw, g.kw, g.ow, x0, x1);
    float grad = 0.0f;
    for (int64_t y = y0; y <= y1; ++y)
      for (int64_t x = x0; x <= x1; ++x) {
        auto win = g.avgWindow(y, x, countIncludePad, divisorOverride);
        if (iy < win.y0 || iy >= win.y1 || ix < win.x0 || ix >= win.x1)
          continue;
        grad += d[y * g.ow + x] / static_cast<float>(win.divisor);
      }
    dx[i] = grad;
  }
}

__device__ int64_t startIndex(int64_t i, int64_t out, int64_t in) {
  return (i * in) / out;
}
__device__ int64_t endIndex(int64_t i, int64_t out, int64_t in) {
  return ((i + 1) * in + out - 1) / out;
}

/// 1x1 output: one block per plane, the mean as a double tree sum.
__global__ void globalAvgPoolKernel(float *out, const float *in, int64_t hw) {
  __shared__ double shared[kBlock];
  const float *plane = in + blockIdx.x * hw;
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < hw; i += kBlock)
    sum += plane[i];
  sum = blockSum(sum, shared);
  if (threadIdx.x == 0)
    out[blockIdx.x] = static_cast<float>(sum) / static_cast<float>(hw);
}

__global__ void adaptiveAvgPoolKernel(float *out, const float *in,
                                      int64_t planes, int64_t h, int64_t w,
                                      int64_t oh, int64_t ow) {
  DPC_GRID_STRIDE(i, planes * oh * ow) {
    int64_t p = i / (oh * ow), y = i / ow % oh, x = i % ow;
    const float *plane = in + p * h * w;
    int64_t y0 = startIndex(y, oh, h), y1 = endIndex(y, oh, h);
    int64_t x0 = startIndex(x, ow, w), x1 = endIndex(x, ow, w);
    float sum = 0.0f;
    for (int64_t iy = y0; iy < y1; ++iy)
      for (int64_t ix = x0; ix < x1; ++ix)
        sum += plane[iy * w + ix];
    out[i] = sum / static_cast<float>(y1 - y0) / static_cast<float>(x1 - x0);
  }
}

__global__ void globalAvgPoolGradKernel(float *dx, const float *dy,
                                        int64_t planes, int64_t hw) {
  DPC_GRID_STRIDE(i, planes * hw) {
    dx[i] = dy[i / hw] / static_cast<float>(hw);
  }
}

/// One thread per input element: the deltas of the (possibly overlapping)
/// adaptive windows that contain it, in the CPU's output order. Output y's
/// window contains row iy exactly for y in [iy*oh/h, ceil((iy+1)*oh/h)).
__global__ void adaptiveAvgPoolGradKernel(float *dx, const float *dy,
                                          int64_t planes, int64_t h, int64_t w,
                                          int64_t oh, int64_t ow) {
  DPC_GRID_STRIDE(i, planes * h * w) {
    int64_t p = i / (h * w), iy = i / w % h, ix = i % w;
    const float *d = dy + p * oh * ow;
    int64_t yBegin = iy * oh / h, yEnd = min(((iy + 1) * oh + h - 1) / h, oh);
    int64_t xBegin = ix * ow / w, xEnd = min(((ix + 1) * ow + w - 1) / w, ow);
    float grad = 0.0f;
    for (int64_t y = yBegin; y < yEnd; ++y) {
      int64_t y0 = startIndex(y, oh, h), y1 = endIndex(y, oh, h);
      if (iy < y0 || iy >= y1)
        continue;
      for (int64_t x = xBegin; x < xEnd; ++x) {
        int64_t x0 = startIndex(x, ow, w), x1 = endIndex(x, ow, w);
        if (ix < x0 || ix >= x1)
          continue;
        grad += d[y * ow + x] / static_cast<float>(y1 - y0) /
                static_cast<float>(x1 - x0);
      }
    }
    dx[i] = grad;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

void conv2d_f32(dpcrt_context *ctx, float *out, const float *in,
                const float *weight, const float *bias, const int64_t *dims) {
  Conv2d g(dims);
  if (!checkConv(ctx, "conv2d", g))
    return;
  ConvDescriptors d;
  cudnnHandle_t handle = cudnnOn(ctx, "conv2d");
  if (!handle || !d.init(ctx, g, "conv2d"))
    return;
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int returned = 0;
  if (failed(ctx,
             cudnnGetConvolutionForwardAlgorithm_v7(
                 handle, d.x, d.w, d.conv, d.y,
                 CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf),
             "conv2d: cudnnGetConvolutionForwardAlgorithm_v7"))
    return;
  cudnnConvolutionFwdAlgo_t algo;
  size_t bytes = 0;
  auto workspaceOf = [&](cudnnConvolutionFwdAlgo_t a, size_t &b) {
    return cudnnGetConvolutionForwardWorkspaceSize(handle, d.x, d.w, d.conv,
                                                   d.y, a, &b);
  };
  void *ws;
  if (!pickAlgorithm(ctx, "conv2d", perf, returned,
                     CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, workspaceOf,
                     algo, bytes) ||
      !workspace(ctx, bytes, ws))
    return;
  float alpha = 1.0f, beta = 0.0f;
  if (failed(ctx,
             cudnnConvolutionForward(handle, &alpha, d.x, in, d.w, weight,
                                     d.conv, algo, ws, bytes, &beta, d.y, out),
             "conv2d: cudnnConvolutionForward") ||
      !bias)
    return;
  // The bias separately, as the CPU adds it after the GEMMs (one float
  // addition per element, so the same rounding as there).
  int64_t l = g.oh * g.ow;
  addBiasKernel<<<gridFor(g.n * g.o * l), 256, 0, computeStream(ctx)>>>(
      out, bias, g.n * g.o, g.o, l);
  launchFailed(ctx, "conv2d: bias");
}

void conv2d_input_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                           const float *weight, const int64_t *dims) {
  Conv2d g(dims);
  if (!checkConv(ctx, "conv2d_input_grad", g))
    return;
  ConvDescriptors d;
  cudnnHandle_t handle = cudnnOn(ctx, "conv2d_input_grad");
  if (!handle || !d.init(ctx, g, "conv2d_input_grad"))
    return;
  cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  int returned = 0;
  if (failed(ctx,
             cudnnGetConvolutionBackwardDataAlgorithm_v7(
                 handle, d.w, d.y, d.conv, d.x,
                 CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &returned, perf),
             "conv2d_input_grad: cudnnGetConvolutionBackwardDataAlgorithm_v7"))
    return;
  cudnnConvolutionBwdDataAlgo_t algo;
  size_t bytes = 0;
  auto workspaceOf = [&](cudnnConvolutionBwdDataAlgo_t a, size_t &b) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(handle, d.w, d.y,
                                                        d.conv, d.x, a, &b);
  };
  void *ws;
  // ALGO_0 sums with atomics (non-deterministic); ALGO_1 does not.
  if (!pickAlgorithm(ctx, "conv2d_input_grad", perf, returned,
                     CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, workspaceOf, algo,
                     bytes) ||
      !workspace(ctx, bytes, ws))
    return;
  float alpha = 1.0f, beta = 0.0f; // overwrites dx
  failed(ctx,
         cudnnConvolutionBackwardData(handle, &alpha, d.w, weight, d.y, dy,
                                      d.conv, algo, ws, bytes, &beta, d.x, dx),
         "conv2d_input_grad: cudnnConvolutionBackwardData");
}

void conv2d_weight_grad_f32(dpcrt_context *ctx, float *dweight, const float *dy,
                            const float *in, const int64_t *dims) {
  Conv2d g(dims);
  if (!checkConv(ctx, "conv2d_weight_grad", g))
    return;
  ConvDescriptors d;
  cudnnHandle_t handle = cudnnOn(ctx, "conv2d_weight_grad");
  if (!handle || !d.init(ctx, g, "conv2d_weight_grad"))
    return;
  cudnnConvolutionBwdFilterAlgoPerf_t
      perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  int returned = 0;
  if (failed(ctx,
             cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                 handle, d.x, d.y, d.conv, d.w,
                 CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned, perf),
             "conv2d_weight_grad: "
             "cudnnGetConvolutionBackwardFilterAlgorithm_v7"))
    return;
  cudnnConvolutionBwdFilterAlgo_t algo;
  size_t bytes = 0;
  auto workspaceOf = [&](cudnnConvolutionBwdFilterAlgo_t a, size_t &b) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, d.x, d.y,
                                                          d.conv, d.w, a, &b);
  };
  void *ws;
  // ALGO_0 and ALGO_3 sum with atomics (non-deterministic); ALGO_1 does not.
  if (!pickAlgorithm(ctx, "conv2d_weight_grad", perf, returned,
                     CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, workspaceOf, algo,
                     bytes) ||
      !workspace(ctx, bytes, ws))
    return;
  float alpha = 1.0f, beta = 0.0f; // overwrites dweight
  failed(ctx,
         cudnnConvolutionBackwardFilter(handle, &alpha, d.x, in, d.y, dy,
                                        d.conv, algo, ws, bytes, &beta, d.w,
                                        dweight),
         "conv2d_weight_grad: cudnnConvolutionBackwardFilter");
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

void max_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                    const int64_t *dims) {
  Pool2d g(dims);
  if (!checkPool(ctx, "max_pool2d", g))
    return;
  int64_t total = g.planes * g.oh * g.ow;
  if (total == 0)
    return;
  maxPoolKernel<<<gridFor(total), 256, 0, computeStream(ctx)>>>(out, in, g);
  launchFailed(ctx, "max_pool2d");
}

void max_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                         const float *in, const int64_t *dims) {
  Pool2d g(dims);
  if (!checkPool(ctx, "max_pool2d_grad", g))
    return;
  int64_t total = g.planes * g.h * g.w;
  if (total == 0)
    return;
  maxPoolGradKernel<<<gridFor(total), 256, 0, computeStream(ctx)>>>(dx, dy, in,
                                                                    g);
  launchFailed(ctx, "max_pool2d_grad");
}

void avg_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                    const int64_t *dims, int32_t countIncludePad,
                    int64_t divisorOverride) {
  Pool2d g(dims);
  if (!checkPool(ctx, "avg_pool2d", g))
    return;
  int64_t total = g.planes * g.oh * g.ow;
  if (total == 0)
    return;
  avgPoolKernel<<<gridFor(total), 256, 0, computeStream(ctx)>>>(
      out, in, g, countIncludePad != 0, divisorOverride);
  launchFailed(ctx, "avg_pool2d");
}

void avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                         const int64_t *dims, int32_t countIncludePad,
                         int64_t divisorOverride) {
  Pool2d g(dims);
  if (!checkPool(ctx, "avg_pool2d_grad", g))
    return;
  int64_t total = g.planes * g.h * g.w;
  if (total == 0)
    return;
  avgPoolGradKernel<<<gridFor(total), 256, 0, computeStream(ctx)>>>(
      dx, dy, g, countIncludePad != 0, divisorOverride);
  launchFailed(ctx, "avg_pool2d_grad");
}

void adaptive_avg_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                             int64_t planes, int64_t h, int64_t w, int64_t oh,
                             int64_t ow) {
  if (planes < 0 || h < 1 || w < 1 || oh < 1 || ow < 1) {
    recordError(ctx, "adaptive_avg_pool2d: invalid sizes");
    return;
  }
  if (planes == 0)
    return;
  if (oh == 1 && ow == 1) {
    if (planes > INT_MAX) {
      recordError(ctx, "adaptive_avg_pool2d: too many planes");
      return;
    }
    globalAvgPoolKernel<<<static_cast<unsigned>(planes), kBlock, 0,
                          computeStream(ctx)>>>(out, in, h * w);
  } else {
    adaptiveAvgPoolKernel<<<gridFor(planes * oh * ow), 256, 0,
                            computeStream(ctx)>>>(out, in, planes, h, w, oh,
                                                  ow);
  }
  launchFailed(ctx, "adaptive_avg_pool2d");
}

void adaptive_avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx,
                                  const float *dy, int64_t planes, int64_t h,
                                  int64_t w, int64_t oh, int64_t ow) {
  if (planes < 0 || h < 1 || w < 1 || oh < 1 || ow < 1) {
    recordError(ctx, "adaptive_avg_pool2d_grad: invalid sizes");
    return;
  }
  if (planes == 0)
    return;
  if (oh == 1 && ow == 1)
    globalAvgPoolGradKernel<<<gridFor(planes * h * w), 256, 0,
                              computeStream(ctx)>>>(dx, dy, planes, h * w);
  else
    adaptiveAvgPoolGradKernel<<<gridFor(planes * h * w), 256, 0,
                                computeStream(ctx)>>>(dx, dy, planes, h, w, oh,
                                                      ow);
  launchFailed(ctx, "adaptive_avg_pool2d_grad");
}

} // namespace dpc::cuda
