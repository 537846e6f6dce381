//===- elementwise_kernels.cu - CUDA kernels of the elementwise ops -------===//
//
// The CUDA counterparts of cpu/elementwise_kernels.cpp, with the same ABI
// semantics (abi.h): fill, scale, div_scalar, the unary ops and their
// gradients, the broadcasting binary ops, compare, masked_fill, where, the
// int64 to float32 conversion and GELU; the float64 fill, scale,
// div_scalar, unary ops and binary ops (the same formulas in double).
// The unary, binary and comparison formulas are kernel_shared.h's, the CPU
// kernels' own; GELU's erf and tanh are evaluated in double and rounded to
// float (the CPU uses oneDNN's vectorized approximations, within about 3e-7
// of the exact values, so results agree to about that).
//
// Like the CPU kernels (-ffp-contract=off), this file must be compiled with
// -fmad=false and without --use_fast_math: fused multiply-adds appear only
// where written (__fmaf_rn, where the CPU calls std::fma), and division and
// sqrt are IEEE-rounded.
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <string>

namespace dpc::cuda {
namespace {

// T is float, or double for the _f64 kernels.
template <typename T> __global__ void fillKernel(T *out, int64_t n, T value) {
  DPC_GRID_STRIDE(i, n) out[i] = value;
}

template <typename T>
__global__ void scaleKernel(T *out, const T *in, int64_t n, T factor) {
  DPC_GRID_STRIDE(i, n) out[i] = in[i] * factor;
}

template <typename T>
__global__ void divKernel(T *out, const T *in, int64_t n, T divisor) {
  DPC_GRID_STRIDE(i, n) out[i] = in[i] / divisor;
}

// DDP's compression hooks: bucket.to(16 bits).div_(world size), each
// operation rounded to nearest even (the division in float32, as PyTorch
// computes 16-bit arithmetic), and back to float32 after the all-reduce.
template <typename T>
__global__ void compressKernel(T *out, const float *in, int64_t n,
                               float divisor) {
  DPC_GRID_STRIDE(i, n) {
    float rounded = static_cast<float>(static_cast<T>(in[i]));
    out[i] = static_cast<T>(rounded / divisor);
  }
}

template <typename T>
__global__ void decompressKernel(float *out, const T *in, int64_t n) {
  DPC_GRID_STRIDE(i, n) out[i] = static_cast<float>(in[i]);
}

// The formulas are kernel_shared.h's, the CPU kernels' own (T float or
// double).
template <typename T>
__global__ void unaryKernel(int32_t kind, T *out, const T *in, int64_t n,
                            UnaryParams p) {
  DPC_GRID_STRIDE(i, n) { out[i] = applyUnary(kind, in[i], p); }
}

template <typename T>
__global__ void unaryGradKernel(int32_t kind, T *dx, const T *dy,
                                const T *saved, int64_t n, UnaryParams p) {
  DPC_GRID_STRIDE(i, n) { dx[i] = applyUnaryGrad(kind, dy[i], saved[i], p); }
}

template <typename T>
__global__ void binaryKernel(int32_t kind, T *out, const T *a, const T *b,
                             Strides st, int64_t n, T alpha) {
  DPC_GRID_STRIDE(i, n) {
    int64_t off[2];
    offsetsOf<2>(st, i, off);
    out[i] = applyBinary(kind, a[off[0]], b[off[1]], alpha);
  }
}

template <typename T>
__global__ void compareKernel(int32_t kind, T *out, const T *a, const T *b,
                              Strides st, int64_t n) {
  DPC_GRID_STRIDE(i, n) {
    int64_t off[2];
    offsetsOf<2>(st, i, off);
    out[i] = applyCompare(kind, a[off[0]], b[off[1]]) ? T(1) : T(0);
  }
}

template <typename T>
__global__ void maskedFillKernel(T *out, const T *in, const T *mask, Strides st,
                                 int64_t n, T value) {
  DPC_GRID_STRIDE(i, n) {
    int64_t off[1];
    offsetsOf<1>(st, i, off);
    out[i] = mask[off[0]] != T(0) ? value : in[i];
  }
}

template <typename T>
__global__ void whereKernel(T *out, const T *condition, const T *a, const T *b,
                            int64_t n) {
  DPC_GRID_STRIDE(i, n) { out[i] = condition[i] != T(0) ? a[i] : b[i]; }
}

// __ll2float_rn: to nearest, ties to even, as the CPU's conversion.
__global__ void convertI64Kernel(float *out, const int64_t *in, int64_t n) {
  DPC_GRID_STRIDE(i, n) { out[i] = __ll2float_rn(in[i]); }
}

// Saved activations in 16 bits (--precision bf16|fp16): the same
// round-to-nearest-even conversions as the CPU's.
__global__ void packBF16Kernel(uint16_t *out, const float *in, int64_t n) {
  DPC_GRID_STRIDE(i, n) { out[i] = floatToBFloat16Bits(in[i]); }
}
__global__ void unpackBF16Kernel(float *out, const uint16_t *in, int64_t n) {
  DPC_GRID_STRIDE(i, n) { out[i] = bfloat16BitsToFloat(in[i]); }
}
__global__ void packF16Kernel(uint16_t *out, const float *in, int64_t n) {
  DPC_GRID_STRIDE(i, n) { out[i] = __half_as_ushort(__float2half_rn(in[i])); }
}
__global__ void unpackF16Kernel(float *out, const uint16_t *in, int64_t n) {
  DPC_GRID_STRIDE(i, n) { out[i] = __half2float(__ushort_as_half(in[i])); }
}

// The constants of torch's GeluKernel / GeluBackwardKernel, as on the CPU.
constexpr float kSqrt1_2 = 0.70710678118654752440f;
constexpr float kBetaErf = 0.39894228040143267794f;
constexpr float kBetaTanh = 0.79788456080286535588f;
constexpr float kKappa = 0.044715f;

__global__ void geluKernel(bool tanhForm, float *out, const float *in,
                           int64_t n) {
  DPC_GRID_STRIDE(i, n) {
    float x = in[i];
    if (!tanhForm) {
      out[i] = x * 0.5f * (1.0f + erfF(x * kSqrt1_2));
    } else {
      float inner = kBetaTanh * (x + kKappa * (x * x * x));
      out[i] = 0.5f * x * (1.0f + tanhF(inner));
    }
  }
}

__global__ void geluGradKernel(bool tanhForm, float *dx, const float *dy,
                               const float *xs, int64_t n) {
  DPC_GRID_STRIDE(i, n) {
    float v = xs[i];
    if (!tanhForm) {
      float cdf = 0.5f * (1.0f + erfF(v * kSqrt1_2));
      float pdf = kBetaErf * expF(v * v * -0.5f);
      dx[i] = dy[i] * (cdf + v * pdf);
    } else {
      float sq = v * v, cube = sq * v;
      float inner = kBetaTanh * (v + kKappa * cube);
      float t = tanhF(inner);
      float left = 0.5f * v, right = 1.0f + t;
      float leftDerivative = 0.5f * right;
      float tanhDerivative = 1.0f - t * t;
      float innerDerivative = kBetaTanh * (1.0f + 3.0f * kKappa * sq);
      float rightDerivative = left * tanhDerivative * innerDerivative;
      dx[i] = dy[i] * (leftDerivative + rightDerivative);
    }
  }
}

/// unary_params_f32 and unary_params_f64 (T float or double).
template <typename T>
void launchUnary(dpcrt_context *ctx, int32_t kind, T *out, const T *in,
                 int64_t n, UnaryParams params) {
  if (!isUnaryKind(kind)) {
    recordError(ctx, "unary: unknown kind " + std::to_string(kind));
    return;
  }
  launch(ctx, "unary", n, unaryKernel<T>, kind, out, in, n, params);
}

/// unary_params_grad_f32 and unary_params_grad_f64 (T float or double).
template <typename T>
void launchUnaryGrad(dpcrt_context *ctx, int32_t kind, T *dx, const T *dy,
                     const T *saved, int64_t n, UnaryParams params) {
  if (!isUnaryKind(kind)) {
    recordError(ctx, "unary_grad: unknown kind " + std::to_string(kind));
    return;
  }
  launch(ctx, "unary_grad", n, unaryGradKernel<T>, kind, dx, dy, saved, n,
         params);
}

/// binary_f32 and binary_f64 (T float or double).
template <typename T>
void launchBinary(dpcrt_context *ctx, int32_t kind, T *out, const T *a,
                  const T *b, int32_t rank, const int64_t *dims, T alpha) {
  if (kind < DPCRT_BINARY_ADD || kind > DPCRT_BINARY_POW) {
    recordError(ctx, "binary: unknown kind " + std::to_string(kind));
    return;
  }
  Strides st;
  int64_t n;
  if (!makeStrides(ctx, "binary", rank, dims, 2, st, n))
    return;
  launch(ctx, "binary", n, binaryKernel<T>, kind, out, a, b, st, n, alpha);
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void fill_f32(dpcrt_context *ctx, float *out, int64_t n, float value) {
  launch(ctx, "fill", n, fillKernel<float>, out, n, value);
}

void scale_f32(dpcrt_context *ctx, float *out, const float *in, int64_t n,
               float factor) {
  launch(ctx, "scale", n, scaleKernel<float>, out, in, n, factor);
}

void unary_params_f32(dpcrt_context *ctx, int32_t kind, float *out,
                      const float *in, int64_t n, double p0, double p1,
                      double p2) {
  launchUnary(ctx, kind, out, in, n, UnaryParams{p0, p1, p2});
}

void unary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
               int64_t n) {
  unary_params_f32(ctx, kind, out, in, n, 0, 0, 0);
}

void unary_params_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx,
                           const float *dy, const float *saved, int64_t n,
                           double p0, double p1, double p2) {
  launchUnaryGrad(ctx, kind, dx, dy, saved, n, UnaryParams{p0, p1, p2});
}

void unary_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx,
                    const float *dy, const float *saved, int64_t n) {
  unary_params_grad_f32(ctx, kind, dx, dy, saved, n, 0, 0, 0);
}

void binary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                const float *b, int32_t rank, const int64_t *dims,
                float alpha) {
  launchBinary(ctx, kind, out, a, b, rank, dims, alpha);
}

namespace {

// compare, masked_fill and where for float32 and float64 (a float64 model's
// masks are float64 0/1 tensors).

template <typename T>
void launchCompare(dpcrt_context *ctx, int32_t kind, T *out, const T *a,
                   const T *b, int32_t rank, const int64_t *dims) {
  if (rank < 0 || kind < DPCRT_COMPARE_EQ || kind > DPCRT_COMPARE_GE) {
    recordError(ctx, "compare: invalid rank or kind " + std::to_string(kind));
    return;
  }
  Strides st;
  int64_t n;
  if (!makeStrides(ctx, "compare", rank, dims, 2, st, n))
    return;
  launch(ctx, "compare", n, compareKernel<T>, kind, out, a, b, st, n);
}

template <typename T>
void launchMaskedFill(dpcrt_context *ctx, T *out, const T *in, const T *mask,
                      int32_t rank, const int64_t *dims, T value) {
  if (rank < 0) {
    recordError(ctx, "masked_fill: negative rank");
    return;
  }
  Strides st;
  int64_t n;
  if (!makeStrides(ctx, "masked_fill", rank, dims, 1, st, n))
    return;
  launch(ctx, "masked_fill", n, maskedFillKernel<T>, out, in, mask, st, n,
         value);
}

} // namespace

void compare_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                 const float *b, int32_t rank, const int64_t *dims) {
  launchCompare(ctx, kind, out, a, b, rank, dims);
}

void compare_f64(dpcrt_context *ctx, int32_t kind, double *out, const double *a,
                 const double *b, int32_t rank, const int64_t *dims) {
  launchCompare(ctx, kind, out, a, b, rank, dims);
}

void masked_fill_f32(dpcrt_context *ctx, float *out, const float *in,
                     const float *mask, int32_t rank, const int64_t *dims,
                     float value) {
  launchMaskedFill(ctx, out, in, mask, rank, dims, value);
}

void masked_fill_f64(dpcrt_context *ctx, double *out, const double *in,
                     const double *mask, int32_t rank, const int64_t *dims,
                     double value) {
  launchMaskedFill(ctx, out, in, mask, rank, dims, value);
}

void where_f32(dpcrt_context *ctx, float *out, const float *condition,
               const float *a, const float *b, int64_t n) {
  launch(ctx, "where", n, whereKernel<float>, out, condition, a, b, n);
}

void where_f64(dpcrt_context *ctx, double *out, const double *condition,
               const double *a, const double *b, int64_t n) {
  launch(ctx, "where", n, whereKernel<double>, out, condition, a, b, n);
}

void convert_i64_f32(dpcrt_context *ctx, float *out, const int64_t *in,
                     int64_t n) {
  launch(ctx, "convert", n, convertI64Kernel, out, in, n);
}

void pack_bf16(dpcrt_context *ctx, uint16_t *out, const float *in, int64_t n) {
  launch(ctx, "pack_bf16", n, packBF16Kernel, out, in, n);
}

void unpack_bf16(dpcrt_context *ctx, float *out, const uint16_t *in,
                 int64_t n) {
  launch(ctx, "unpack_bf16", n, unpackBF16Kernel, out, in, n);
}

void pack_f16(dpcrt_context *ctx, uint16_t *out, const float *in, int64_t n) {
  launch(ctx, "pack_f16", n, packF16Kernel, out, in, n);
}

void unpack_f16(dpcrt_context *ctx, float *out, const uint16_t *in, int64_t n) {
  launch(ctx, "unpack_f16", n, unpackF16Kernel, out, in, n);
}

void div_scalar_f32(dpcrt_context *ctx, float *out, const float *in, int64_t n,
                    float divisor) {
  launch(ctx, "div_scalar", n, divKernel<float>, out, in, n, divisor);
}

// float64 (a model.double() model): the same kernels in double.
void fill_f64(dpcrt_context *ctx, double *out, int64_t n, double value) {
  launch(ctx, "fill", n, fillKernel<double>, out, n, value);
}

void scale_f64(dpcrt_context *ctx, double *out, const double *in, int64_t n,
               double factor) {
  launch(ctx, "scale", n, scaleKernel<double>, out, in, n, factor);
}

void div_scalar_f64(dpcrt_context *ctx, double *out, const double *in,
                    int64_t n, double divisor) {
  launch(ctx, "div_scalar", n, divKernel<double>, out, in, n, divisor);
}

void unary_params_f64(dpcrt_context *ctx, int32_t kind, double *out,
                      const double *in, int64_t n, double p0, double p1,
                      double p2) {
  launchUnary(ctx, kind, out, in, n, UnaryParams{p0, p1, p2});
}

void unary_f64(dpcrt_context *ctx, int32_t kind, double *out, const double *in,
               int64_t n) {
  unary_params_f64(ctx, kind, out, in, n, 0, 0, 0);
}

void unary_params_grad_f64(dpcrt_context *ctx, int32_t kind, double *dx,
                           const double *dy, const double *saved, int64_t n,
                           double p0, double p1, double p2) {
  launchUnaryGrad(ctx, kind, dx, dy, saved, n, UnaryParams{p0, p1, p2});
}

void unary_grad_f64(dpcrt_context *ctx, int32_t kind, double *dx,
                    const double *dy, const double *saved, int64_t n) {
  unary_params_grad_f64(ctx, kind, dx, dy, saved, n, 0, 0, 0);
}

void binary_f64(dpcrt_context *ctx, int32_t kind, double *out, const double *a,
                const double *b, int32_t rank, const int64_t *dims,
                double alpha) {
  launchBinary(ctx, kind, out, a, b, rank, dims, alpha);
}

void gelu_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
              int64_t n) {
  if (kind != DPCRT_GELU_ERF && kind != DPCRT_GELU_TANH) {
    recordError(ctx, "gelu: unknown kind " + std::to_string(kind));
    return;
  }
  if (n <= 0)
    return;
  geluKernel<<<gridFor(n), 256, 0, computeStream(ctx)>>>(
      kind == DPCRT_GELU_TANH, out, in, n);
  launchFailed(ctx, "gelu");
}

void gelu_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx, const float *dy,
                   const float *x, int64_t n) {
  if (kind != DPCRT_GELU_ERF && kind != DPCRT_GELU_TANH) {
    recordError(ctx, "gelu_grad: unknown kind " + std::to_string(kind));
    return;
  }
  if (n <= 0)
    return;
  geluGradKernel<<<gridFor(n), 256, 0, computeStream(ctx)>>>(
      kind == DPCRT_GELU_TANH, dx, dy, x, n);
  launchFailed(ctx, "gelu_grad");
}

void divideOnStream(dpcrt_context *ctx, cudaStream_t stream, float *data,
                    int64_t n, float divisor) {
  if (n <= 0)
    return;
  divKernel<float>
      <<<gridFor(n, kThreads), kThreads, 0, stream>>>(data, data, n, divisor);
  launchFailed(ctx, "allreduce: dividing by the world size");
}

void compressOnStream(dpcrt_context *ctx, cudaStream_t stream,
                      int32_t commDType, const float *data, int64_t n,
                      float divisor, void *out) {
  if (n <= 0)
    return;
  if (commDType == DPCRT_GRAD_COMM_BF16)
    compressKernel<<<gridFor(n, kThreads), kThreads, 0, stream>>>(
        static_cast<__nv_bfloat16 *>(out), data, n, divisor);
  else
    compressKernel<<<gridFor(n, kThreads), kThreads, 0, stream>>>(
        static_cast<__half *>(out), data, n, divisor);
  launchFailed(ctx, "allreduce: compressing the bucket");
}

void decompressOnStream(dpcrt_context *ctx, cudaStream_t stream,
                        int32_t commDType, const void *in, int64_t n,
                        float *data) {
  if (n <= 0)
    return;
  if (commDType == DPCRT_GRAD_COMM_BF16)
    decompressKernel<<<gridFor(n, kThreads), kThreads, 0, stream>>>(
        data, static_cast<const __nv_bfloat16 *>(in), n);
  else
    decompressKernel<<<gridFor(n, kThreads), kThreads, 0, stream>>>(
        data, static_cast<const __half *>(in), n);
  launchFailed(ctx, "allreduce: decompressing the bucket");
}

} // namespace dpc::cuda
