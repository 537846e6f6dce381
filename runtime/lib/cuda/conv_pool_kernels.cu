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

// The three directions of a convolution, each with cuDNN's functions and
// the deterministic algorithm to fall back to. run() computes `result` from
// `first` and `second` (alpha 1, beta 0: the result is overwritten).
//
// directSum: whether an algorithm sums the products directly (GEMM-like,
// direct). FFT and Winograd algorithms transform the operands first, which
// costs digits: their results drift further from the CPU's GEMM than the
// reassociation of a direct sum does, so they are not used.

/// out = conv2d(in, weight).
struct ForwardConv {
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  using Algo = cudnnConvolutionFwdAlgo_t;
  static constexpr int kCount = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  static constexpr Algo kFallback = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  static constexpr const char *kQueryName =
      "cudnnGetConvolutionForwardAlgorithm_v7";
  static constexpr const char *kRunName = "cudnnConvolutionForward";

  static bool directSum(Algo a) {
    return a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_GEMM ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
  }
  static cudnnStatus_t query(cudnnHandle_t h, const ConvDescriptors &d,
                             int *returned, Perf *perf) {
    return cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y,
                                                  kCount, returned, perf);
  }
  static cudnnStatus_t workspaceSize(cudnnHandle_t h, const ConvDescriptors &d,
                                     Algo a, size_t *bytes) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, a,
                                                   bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const ConvDescriptors &d, Algo a,
                           void *ws, size_t bytes, float *out, const float *in,
                           const float *weight) {
    float alpha = 1.0f, beta = 0.0f;
    return cudnnConvolutionForward(h, &alpha, d.x, in, d.w, weight, d.conv, a,
                                   ws, bytes, &beta, d.y, out);
  }
};

/// dx = the input gradient of conv2d for dy and weight.
struct InputGradConv {
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  using Algo = cudnnConvolutionBwdDataAlgo_t;
  static constexpr int kCount = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  // ALGO_0 sums with atomics (non-deterministic); ALGO_1 does not.
  static constexpr Algo kFallback = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
  static constexpr const char *kQueryName =
      "cudnnGetConvolutionBackwardDataAlgorithm_v7";
  static constexpr const char *kRunName = "cudnnConvolutionBackwardData";

  static bool directSum(Algo a) {
    return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 ||
           a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
  }
  static cudnnStatus_t query(cudnnHandle_t h, const ConvDescriptors &d,
                             int *returned, Perf *perf) {
    return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x,
                                                       kCount, returned, perf);
  }
  static cudnnStatus_t workspaceSize(cudnnHandle_t h, const ConvDescriptors &d,
                                     Algo a, size_t *bytes) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv,
                                                        d.x, a, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const ConvDescriptors &d, Algo a,
                           void *ws, size_t bytes, float *dx, const float *dy,
                           const float *weight) {
    float alpha = 1.0f, beta = 0.0f;
    return cudnnConvolutionBackwardData(h, &alpha, d.w, weight, d.y, dy, d.conv,
                                        a, ws, bytes, &beta, d.x, dx);
  }
};

/// dweight = the weight gradient of conv2d for dy and in, summed over the
/// batch.
struct WeightGradConv {
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  using Algo = cudnnConvolutionBwdFilterAlgo_t;
  static constexpr int kCount = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  // ALGO_0 and ALGO_3 sum with atomics (non-deterministic); ALGO_1 does not.
  static constexpr Algo kFallback = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
  static constexpr const char *kQueryName =
      "cudnnGetConvolutionBackwardFilterAlgorithm_v7";
  static constexpr const char *kRunName = "cudnnConvolutionBackwardFilter";

  static bool directSum(Algo a) {
    return a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 ||
           a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1 ||
           a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
  }
  static cudnnStatus_t query(cudnnHandle_t h, const ConvDescriptors &d,
                             int *returned, Perf *perf) {
    return cudnnGetConvolutionBackwardFilterAlgorithm_v7(
        h, d.x, d.y, d.conv, d.w, kCount, returned, perf);
  }
  static cudnnStatus_t workspaceSize(cudnnHandle_t h, const ConvDescriptors &d,
                                     Algo a, size_t *bytes) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv,
                                                          d.w, a, bytes);
  }
  static cudnnStatus_t run(cudnnHandle_t h, const ConvDescriptors &d, Algo a,
                           void *ws, size_t bytes, float *dweight,
                           const float *dy, const float *in) {
    float alpha = 1.0f, beta = 0.0f;
    return cudnnConvolutionBackwardFilter(h, &alpha, d.x, in, d.y, dy, d.conv,
                                          a, ws, bytes, &beta, d.w, dweight);
  }
};

/// Picks the first algorithm of cuDNN's heuristic ranking (the _v7 query:
/// a pure function of the descriptors and the device, unlike the timing
/// cudnnFind*, so every run picks the same one) that is deterministic, sums
/// directly, uses an allowed math type and whose workspace size can be
/// queried; falls back to Direction::kFallback.
template <typename Direction>
bool pickAlgorithm(dpcrt_context *ctx, const char *kernel, cudnnHandle_t handle,
                   const ConvDescriptors &d,
                   const typename Direction::Perf *perf, int returned,
                   typename Direction::Algo &algo, size_t &bytes) {
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS ||
        perf[i].determinism != CUDNN_DETERMINISTIC ||
        !Direction::directSum(perf[i].algo) ||
        !acceptableMath(perf[i].mathType))
      continue;
    if (Direction::workspaceSize(handle, d, perf[i].algo, &bytes) ==
        CUDNN_STATUS_SUCCESS) {
      algo = perf[i].algo;
      return true;
    }
  }
  algo = Direction::kFallback;
  return !failed(
      ctx, Direction::workspaceSize(handle, d, algo, &bytes),
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

/// Runs `Direction` of the convolution of `dims` on cuDNN: checks the
/// geometry, sets up the descriptors, picks the algorithm, gets the
/// workspace and computes `result` from `first` and `second` (as
/// Direction::run names them). False after recording an error.
template <typename Direction>
bool runConvolution(dpcrt_context *ctx, const char *kernel, const int64_t *dims,
                    float *result, const float *first, const float *second) {
  Conv2d g(dims);
  if (!checkConv(ctx, kernel, g))
    return false;
  ConvDescriptors d;
  cudnnHandle_t handle = cudnnOn(ctx, kernel);
  if (!handle || !d.init(ctx, g, kernel))
    return false;
  std::string what = std::string(kernel) + ": ";
  typename Direction::Perf perf[Direction::kCount];
  int returned = 0;
  if (failed(ctx, Direction::query(handle, d, &returned, perf),
             (what + Direction::kQueryName).c_str()))
    return false;
  typename Direction::Algo algo;
  size_t bytes = 0;
  void *ws;
  if (!pickAlgorithm<Direction>(ctx, kernel, handle, d, perf, returned, algo,
                                bytes) ||
      !workspace(ctx, bytes, ws))
    return false;
  return !failed(
      ctx, Direction::run(handle, d, algo, ws, bytes, result, first, second),
      (what + Direction::kRunName).c_str());
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
    out[i] = g.maxValue(plane, y, x);
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
    out[i] = g.avgValue(plane, y, x, countIncludePad, divisorOverride);
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
    out[i] = adaptiveAvgValue(plane, h, w, oh, ow, y, x);
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
      int64_t y0 = adaptiveStart(y, oh, h), y1 = adaptiveEnd(y, oh, h);
      if (iy < y0 || iy >= y1)
        continue;
      for (int64_t x = xBegin; x < xEnd; ++x) {
        int64_t x0 = adaptiveStart(x, ow, w), x1 = adaptiveEnd(x, ow, w);
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
// conv2d
//===----------------------------------------------------------------------===//

void conv2d_f32(dpcrt_context *ctx, float *out, const float *in,
                const float *weight, const float *bias, const int64_t *dims) {
  if (!runConvolution<ForwardConv>(ctx, "conv2d", dims, out, in, weight) ||
      !bias)
    return;
  // The bias separately, as the CPU adds it after the GEMMs (one float
  // addition per element, so the same rounding as there).
  Conv2d g(dims);
  int64_t l = g.oh * g.ow;
  addBiasKernel<<<gridFor(g.n * g.o * l), 256, 0, computeStream(ctx)>>>(
      out, bias, g.n * g.o, g.o, l);
  launchFailed(ctx, "conv2d: bias");
}

void conv2d_input_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                           const float *weight, const int64_t *dims) {
  runConvolution<InputGradConv>(ctx, "conv2d_input_grad", dims, dx, dy, weight);
}

void conv2d_weight_grad_f32(dpcrt_context *ctx, float *dweight, const float *dy,
                            const float *in, const int64_t *dims) {
  runConvolution<WeightGradConv>(ctx, "conv2d_weight_grad", dims, dweight, dy,
                                 in);
}

// bfloat16 operands: widened (exactly) into DeviceState::widened and the
// float32 convolutions above, so the numbers are theirs. cuDNN's bfloat16
// convolutions write bfloat16 results, where dpc keeps the float32 result
// to round it once, as PyTorch's CPU kernels (a next step on the GPU).
namespace {

/// The float32 copies of two bfloat16 tensors of `n0` and `n1` elements, in
/// one growing buffer; false (error recorded) when it cannot grow.
bool widenOperands(dpcrt_context *ctx, const uint16_t *t0, int64_t n0,
                   const uint16_t *t1, int64_t n1, float *&w0, float *&w1) {
  auto *base = static_cast<float *>(
      widenedScratch(ctx, static_cast<size_t>(n0 + n1) * sizeof(float)));
  if (!base)
    return false;
  w0 = base;
  w1 = base + n0;
  unpack_bf16(ctx, w0, t0, n0);
  unpack_bf16(ctx, w1, t1, n1);
  return ctx->error.empty();
}

} // namespace

void conv2d_bf16(dpcrt_context *ctx, float *out, const uint16_t *in,
                 const uint16_t *weight, const float *bias,
                 const int64_t *dims) {
  Conv2d g(dims);
  float *wideIn, *wideWeight;
  if (checkConv(ctx, "conv2d_bf16", g) &&
      widenOperands(ctx, in, g.n * g.c * g.h * g.w, weight,
                    g.o * (g.c / g.groups) * g.kh * g.kw, wideIn, wideWeight))
    conv2d_f32(ctx, out, wideIn, wideWeight, bias, dims);
}

void conv2d_input_grad_bf16(dpcrt_context *ctx, float *dx, const uint16_t *dy,
                            const uint16_t *weight, const int64_t *dims) {
  Conv2d g(dims);
  float *wideDy, *wideWeight;
  if (checkConv(ctx, "conv2d_input_grad_bf16", g) &&
      widenOperands(ctx, dy, g.n * g.o * g.oh * g.ow, weight,
                    g.o * (g.c / g.groups) * g.kh * g.kw, wideDy, wideWeight))
    conv2d_input_grad_f32(ctx, dx, wideDy, wideWeight, dims);
}

void conv2d_weight_grad_bf16(dpcrt_context *ctx, float *dweight,
                             const uint16_t *dy, const uint16_t *in,
                             const int64_t *dims) {
  Conv2d g(dims);
  float *wideDy, *wideIn;
  if (checkConv(ctx, "conv2d_weight_grad_bf16", g) &&
      widenOperands(ctx, dy, g.n * g.o * g.oh * g.ow, in, g.n * g.c * g.h * g.w,
                    wideDy, wideIn))
    conv2d_weight_grad_f32(ctx, dweight, wideDy, wideIn, dims);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

void max_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                    const int64_t *dims) {
  Pool2d g(dims);
  if (checkPool(ctx, "max_pool2d", g))
    launch(ctx, "max_pool2d", g.planes * g.oh * g.ow, maxPoolKernel, out, in,
           g);
}

void max_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                         const float *in, const int64_t *dims) {
  Pool2d g(dims);
  if (checkPool(ctx, "max_pool2d_grad", g))
    launch(ctx, "max_pool2d_grad", g.planes * g.h * g.w, maxPoolGradKernel, dx,
           dy, in, g);
}

void avg_pool2d_f32(dpcrt_context *ctx, float *out, const float *in,
                    const int64_t *dims, int32_t countIncludePad,
                    int64_t divisorOverride) {
  Pool2d g(dims);
  if (checkPool(ctx, "avg_pool2d", g))
    launch(ctx, "avg_pool2d", g.planes * g.oh * g.ow, avgPoolKernel, out, in, g,
           countIncludePad != 0, divisorOverride);
}

void avg_pool2d_grad_f32(dpcrt_context *ctx, float *dx, const float *dy,
                         const int64_t *dims, int32_t countIncludePad,
                         int64_t divisorOverride) {
  Pool2d g(dims);
  if (checkPool(ctx, "avg_pool2d_grad", g))
    launch(ctx, "avg_pool2d_grad", g.planes * g.h * g.w, avgPoolGradKernel, dx,
           dy, g, countIncludePad != 0, divisorOverride);
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
