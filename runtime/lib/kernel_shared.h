//===- kernel_shared.h - Arithmetic the CPU and CUDA kernels share -*- C++
//-*-===//
//
// The pieces of the kernels that must be the same on both backends, written
// once and compiled for host and device: the scalar arithmetic of the
// elementwise unary, binary and comparison ops and of the SGD and Adam
// updates (one element at a time; the CPU loops and the CUDA grid-stride
// loops around them differ, the formulas do not), the float constants of
// those updates (computed on the host in double and rounded to float where
// torch 1.13 rounds them), and the convolution and pooling geometries (so
// the CUDA kernels pick exactly the CPU's window and first maximum).
//
// The elementwise and optimizer formulas are templates on the element type:
// float (the _f32 kernels, torch 1.13's float32 roundings: the float32 libm
// functions, float constants, fused multiply-adds where torch fuses) and
// double (the _f64 kernels, the same formulas in double throughout, as
// PyTorch's float64 kernels compute them). Every float instantiation is
// the formula it was before the templates, operation for operation.
//
// Neither side contracts them (on the CPU -ffp-contract=off, or the
// baseline x86-64 target without FMA instructions; nvcc -fmad=false): a
// multiply-add is fused only where a formula calls fusedMultiplyAdd, so the
// results agree bitwise.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_KERNEL_SHARED_H
#define DPC_RUNTIME_LIB_KERNEL_SHARED_H

#include "dpc/abi.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#ifdef __CUDACC__
#include <cuda_fp16.h>
#endif

#ifdef __CUDACC__
#define DPC_HOST_DEVICE __host__ __device__
#define DPC_ALWAYS_INLINE __forceinline__
#else
#define DPC_HOST_DEVICE
#define DPC_ALWAYS_INLINE inline __attribute__((always_inline))
#endif

namespace dpc {

//===----------------------------------------------------------------------===//
// Rounding primitives
//===----------------------------------------------------------------------===//

/// a * b + c rounded once (torch's AVX2 kernels fuse these).
DPC_HOST_DEVICE inline float fusedMultiplyAdd(float a, float b, float c) {
#ifdef __CUDA_ARCH__
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

DPC_HOST_DEVICE inline double fusedMultiplyAdd(double a, double b, double c) {
#ifdef __CUDA_ARCH__
  return __fma_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

/// The correctly rounded square root.
DPC_HOST_DEVICE inline float roundedSqrt(float x) {
#ifdef __CUDA_ARCH__
  return __fsqrt_rn(x);
#else
  return std::sqrt(x);
#endif
}

DPC_HOST_DEVICE inline double roundedSqrt(double x) {
#ifdef __CUDA_ARCH__
  return __dsqrt_rn(x);
#else
  return std::sqrt(x);
#endif
}

//===----------------------------------------------------------------------===//
// The libm function of the element type: the float overloads call the
// float32 functions (expf, ...) the float formulas were written with
// (glibc's on the CPU, CUDA's on the device), the double overloads the
// float64 ones. Always inlined, so the float kernels compile to the same
// calls as before.
//===----------------------------------------------------------------------===//

#define DPC_MATH_OVERLOADS(NAME, FLOAT_FN, DOUBLE_FN)                          \
  DPC_HOST_DEVICE DPC_ALWAYS_INLINE float NAME(float x) {                      \
    return FLOAT_FN(x);                                                        \
  }                                                                            \
  DPC_HOST_DEVICE DPC_ALWAYS_INLINE double NAME(double x) {                    \
    return DOUBLE_FN(x);                                                       \
  }
DPC_MATH_OVERLOADS(expOf, expf, exp)
DPC_MATH_OVERLOADS(logOf, logf, log)
DPC_MATH_OVERLOADS(log1pOf, log1pf, log1p)
DPC_MATH_OVERLOADS(tanhOf, tanhf, tanh)
DPC_MATH_OVERLOADS(sinOf, sinf, sin)
DPC_MATH_OVERLOADS(cosOf, cosf, cos)
DPC_MATH_OVERLOADS(erfOf, erff, erf)
DPC_MATH_OVERLOADS(absOf, fabsf, fabs)
#undef DPC_MATH_OVERLOADS

DPC_HOST_DEVICE DPC_ALWAYS_INLINE float powOf(float x, float y) {
  return powf(x, y);
}
DPC_HOST_DEVICE DPC_ALWAYS_INLINE double powOf(double x, double y) {
  return pow(x, y);
}

//===----------------------------------------------------------------------===//
// Elementwise ops (kinds of abi.h). Called with a constant kind, the switch
// folds away, so the CPU's per-kind loops stay vectorizable.
//===----------------------------------------------------------------------===//

/// The parameters of a unary kind (unary_kinds.def), as torch's Python
/// floats: each formula rounds them to float where torch's kernel does.
struct UnaryParams {
  double p0 = 0, p1 = 0, p2 = 0;
};

/// x ** exponent as torch 1.13's pow(Tensor, Scalar) computes it: the
/// exponents 0 and 1 and its fast paths (sqrt, rsqrt, reciprocal, squares
/// and cubes) exactly, else std::pow(x, T(exponent)) (for float32 the CPU
/// kernel vectorizes that with libmvec's powf).
template <typename T> DPC_HOST_DEVICE inline T powScalar(T x, double exponent) {
  if (exponent == 0.0)
    return T(1);
  if (exponent == 1.0)
    return x;
  if (exponent == 0.5)
    return roundedSqrt(x);
  if (exponent == -0.5)
    return T(1) / roundedSqrt(x);
  if (exponent == -1.0)
    return T(1) / x;
  if (exponent == 2.0)
    return x * x;
  if (exponent == 3.0)
    return x * x * x;
  if (exponent == -2.0)
    return T(1) / (x * x);
  return powOf(x, static_cast<T>(exponent));
}

/// The bits of a float and back (CUDA's intrinsics on the device).
DPC_HOST_DEVICE inline uint32_t floatBits(float x) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(x);
#else
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
#endif
}

DPC_HOST_DEVICE inline float floatFromBits(uint32_t bits) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(bits);
#else
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
#endif
}

/// float32 -> bfloat16 bits, round to nearest even, as c10::BFloat16's
/// round_to_nearest_even: beyond the largest bfloat16 it is infinite, NaN
/// is the quiet NaN 0x7fc0. A select, not a branch, so that loops over it
/// vectorize (the gradient compression's, comm/grad_compression.cpp).
DPC_HOST_DEVICE inline uint16_t floatToBFloat16Bits(float x) {
  uint32_t bits = floatBits(x);
  uint32_t roundingBias = 0x7fffu + ((bits >> 16) & 1u);
  auto rounded = static_cast<uint16_t>((bits + roundingBias) >> 16);
  return x != x ? uint16_t(0x7fc0) : rounded;
}

DPC_HOST_DEVICE inline float bfloat16BitsToFloat(uint16_t bits) {
  return floatFromBits(static_cast<uint32_t>(bits) << 16);
}

/// x rounded to the nearest bfloat16 value, kept a float (--precision
/// bf16's nn.round_bf16).
DPC_HOST_DEVICE inline float roundToBFloat16(float x) {
  return bfloat16BitsToFloat(floatToBFloat16Bits(x));
}

/// x rounded to the nearest float16 value, kept a float (--precision fp16's
/// nn.round_f16): round to nearest even as c10::Half, infinite beyond 65504
/// (from 65520 on), subnormal below 2^-14. The compilers' own conversions:
/// GCC's _Float16 (F16C's vcvtps2ph where the target has it) and CUDA's
/// __float2half_rn.
DPC_HOST_DEVICE inline float roundToFloat16(float x) {
#ifdef __CUDACC__
  return __half2float(__float2half_rn(x));
#else
  return static_cast<float>(static_cast<_Float16>(x));
#endif
}

/// clamp(x, lo, hi) as torch's clamp kernel: min(max(x, lo), hi), NaN
/// propagates.
template <typename T> DPC_HOST_DEVICE inline T clampValue(T x, T lo, T hi) {
  T low = x < lo ? lo : x; // NaN x stays NaN
  return hi < low ? hi : low;
}

/// 2 / sqrt(pi), erf's derivative's factor, in T (for float the literal
/// the float32 formula was written with).
template <typename T> DPC_HOST_DEVICE constexpr T twoOverSqrtPi() {
  if constexpr (std::is_same_v<T, float>)
    return 1.12837916709551257f;
  else
    return 1.12837916709551257;
}

/// nn.round_bf16 / nn.round_f16 of a T: a double rounds through float32, as
/// c10::BFloat16's and c10::Half's conversions from double do.
template <typename T> DPC_HOST_DEVICE inline T roundedToBFloat16(T x) {
  return static_cast<T>(roundToBFloat16(static_cast<float>(x)));
}
template <typename T> DPC_HOST_DEVICE inline T roundedToFloat16(T x) {
  return static_cast<T>(roundToFloat16(static_cast<float>(x)));
}

/// f(x) of dpcrt_unary_f32 (T float) and dpcrt_unary_f64 (T double), one
/// case per kind of unary_kinds.def, each torch 1.13's CPU kernel formula
/// with the parameters rounded to T as torch's kernel does. Called only with
/// listed kinds (the kernels check the kind first). Always inlined: the
/// CPU's per-kind loops call it with a constant kind, and only inlined does
/// the switch fold away and the loop vectorize (GCC's heuristics stopped
/// inlining it as it grew).
template <typename T>
DPC_HOST_DEVICE DPC_ALWAYS_INLINE T applyUnary(int32_t kind, T x,
                                               UnaryParams p = {}) {
  switch (kind) {
  case DPCRT_UNARY_RELU:
    // clamp_min(x, 0) propagates NaN (x != x), as torch.relu does.
    return x != x ? x : (x > T(0) ? x : T(0));
  case DPCRT_UNARY_TANH:
    return tanhOf(x);
  case DPCRT_UNARY_SIGMOID:
    return T(1) / (T(1) + expOf(-x));
  case DPCRT_UNARY_NEG:
    return -x;
  case DPCRT_UNARY_EXP:
    return expOf(x);
  case DPCRT_UNARY_LOG:
    return logOf(x);
  case DPCRT_UNARY_LOG1P:
    return log1pOf(x);
  case DPCRT_UNARY_SQRT:
    return roundedSqrt(x);
  case DPCRT_UNARY_RSQRT:
    return T(1) / roundedSqrt(x);
  case DPCRT_UNARY_ABS:
    return absOf(x);
  case DPCRT_UNARY_RECIPROCAL:
    return T(1) / x;
  case DPCRT_UNARY_SIN:
    return sinOf(x);
  case DPCRT_UNARY_COS:
    return cosOf(x);
  case DPCRT_UNARY_ERF:
    return erfOf(x);
  case DPCRT_UNARY_SILU:
    return x / (T(1) + expOf(-x));
  case DPCRT_UNARY_SOFTPLUS: {
    T beta = static_cast<T>(p.p0), threshold = static_cast<T>(p.p1);
    return x * beta > threshold ? x : log1pOf(expOf(x * beta)) / beta;
  }
  case DPCRT_UNARY_MISH:
    return x * tanhOf(log1pOf(expOf(x)));
  case DPCRT_UNARY_HARDSWISH:
    return x * clampValue(x + T(3), T(0), T(6)) / T(6);
  case DPCRT_UNARY_HARDSIGMOID:
    return clampValue(x + T(3), T(0), T(6)) / T(6);
  case DPCRT_UNARY_LEAKY_RELU:
    return x > T(0) ? x : x * static_cast<T>(p.p0);
  case DPCRT_UNARY_ELU: {
    // torch's elu kernel: negcoef = alpha * scale, poscoef = scale,
    // negiptcoef = input_scale, each a T.
    T negcoef = static_cast<T>(p.p0) * static_cast<T>(p.p1);
    return x <= T(0) ? (expOf(x * static_cast<T>(p.p2)) - T(1)) * negcoef
                     : x * static_cast<T>(p.p1);
  }
  case DPCRT_UNARY_HARDTANH:
  case DPCRT_UNARY_CLAMP:
    return clampValue(x, static_cast<T>(p.p0), static_cast<T>(p.p1));
  case DPCRT_UNARY_POW_SCALAR:
    return powScalar(x, p.p0);
  case DPCRT_UNARY_ROUND_BF16:
    return roundedToBFloat16(x);
  case DPCRT_UNARY_ROUND_F16:
    return roundedToFloat16(x);
  default:
    return NAN;
  }
}

/// dx of dpcrt_unary_grad_f32 / _f64 for dy and `saved`: the forward output
/// y for TANH, SIGMOID, EXP, SQRT, RSQRT and RECIPROCAL (torch's formulas
/// read the result), the forward input x for every other kind. Each case is
/// torch 1.13's derivatives.yaml formula (or its CPU backward kernel),
/// operation by operation.
template <typename T>
DPC_HOST_DEVICE DPC_ALWAYS_INLINE T applyUnaryGrad(int32_t kind, T dy, T saved,
                                                   UnaryParams p = {}) {
  T x = saved, y = saved;
  switch (kind) {
  case DPCRT_UNARY_RELU:
    // threshold_backward(dy, x, 0): zero where x <= 0 (NaN x passes dy).
    return saved <= T(0) ? T(0) : dy;
  case DPCRT_UNARY_TANH:
    // tanh_backward: dy * (1 - y*y), where torch's AVX2 kernel (1.13 and
    // 2.5 alike, measured bitwise for float32) fuses 1 - y*y into one
    // multiply-add.
    return dy * fusedMultiplyAdd(-saved, saved, T(1));
  case DPCRT_UNARY_SIGMOID:
    // sigmoid_backward: dy * (1 - y) * y, in that order.
    return dy * (T(1) - saved) * saved;
  case DPCRT_UNARY_NEG:
    return -dy;
  case DPCRT_UNARY_EXP:
    // exp's backward: dy * y.
    return dy * saved;
  case DPCRT_UNARY_LOG:
    return dy / x;
  case DPCRT_UNARY_LOG1P:
    return dy / (x + T(1));
  case DPCRT_UNARY_SQRT:
    return dy / (T(2) * y);
  case DPCRT_UNARY_RSQRT:
    // -0.5 * grad * result.pow(3)
    return (dy * T(-0.5)) * (y * y * y);
  case DPCRT_UNARY_ABS:
    // grad * self.sgn(): 0 at 0.
    return dy * (x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)));
  case DPCRT_UNARY_RECIPROCAL:
    // -grad * (result * result)
    return -dy * (y * y);
  case DPCRT_UNARY_SIN:
    return dy * cosOf(x);
  case DPCRT_UNARY_COS:
    return dy * -sinOf(x);
  case DPCRT_UNARY_ERF:
    // 2.0 / sqrt(M_PI) * exp(-(self.pow(2))) * grad
    return (twoOverSqrtPi<T>() * expOf(-(x * x))) * dy;
  case DPCRT_UNARY_SILU: {
    T sigmoid = T(1) / (T(1) + expOf(-x));
    return dy * sigmoid * (T(1) + x * (T(1) - sigmoid));
  }
  case DPCRT_UNARY_SOFTPLUS: {
    T beta = static_cast<T>(p.p0), threshold = static_cast<T>(p.p1);
    T z = expOf(x * beta);
    return x * beta > threshold ? dy : dy * z / (z + T(1));
  }
  case DPCRT_UNARY_MISH: {
    T sigmoid = T(1) / (T(1) + expOf(-x));
    T tanhSoftplus = tanhOf(log1pOf(expOf(x)));
    return dy *
           (tanhSoftplus + x * sigmoid * (T(1) - tanhSoftplus * tanhSoftplus));
  }
  case DPCRT_UNARY_HARDSWISH:
    return x < T(-3) ? T(0) : (x <= T(3) ? dy * ((x / T(3)) + T(0.5)) : dy);
  case DPCRT_UNARY_HARDSIGMOID:
    return (x > T(-3) && x < T(3)) ? dy * (T(1) / T(6)) : T(0);
  case DPCRT_UNARY_LEAKY_RELU:
    return x > T(0) ? dy : dy * static_cast<T>(p.p0);
  case DPCRT_UNARY_ELU: {
    T negcoef = static_cast<T>(p.p0) * static_cast<T>(p.p1);
    T negiptcoef = static_cast<T>(p.p2);
    return x <= T(0) ? dy * negiptcoef * negcoef * expOf(x * negiptcoef)
                     : dy * static_cast<T>(p.p1);
  }
  case DPCRT_UNARY_HARDTANH:
    // hardtanh_backward: zero at and beyond the bounds.
    return (x <= static_cast<T>(p.p0) || x >= static_cast<T>(p.p1)) ? T(0) : dy;
  case DPCRT_UNARY_CLAMP:
    // clamp_backward: the gradient passes where min <= x <= max.
    return (x >= static_cast<T>(p.p0) && x <= static_cast<T>(p.p1)) ? dy : T(0);
  case DPCRT_UNARY_POW_SCALAR:
    // pow_backward: grad * (exponent * self.pow(exponent - 1)), zero for
    // the exponent 0.
    return p.p0 == 0.0 ? T(0)
                       : dy * (static_cast<T>(p.p0) * powScalar(x, p.p0 - 1.0));
  case DPCRT_UNARY_ROUND_BF16:
    // The compiler's VJP is nn.round_bf16 itself; the kernel agrees.
    return roundedToBFloat16(dy);
  case DPCRT_UNARY_ROUND_F16:
    return roundedToFloat16(dy);
  default:
    return NAN;
  }
}

/// Whether `kind` is one of unary_kinds.def's.
DPC_HOST_DEVICE inline bool isUnaryKind(int32_t kind) {
  switch (kind) {
#define DPC_UNARY_KIND(NAME, VALUE) case DPCRT_UNARY_##NAME:
#include "dpc/unary_kinds.def"
    return true;
  default:
    return false;
  }
}

/// One element of dpcrt_binary_f32 (T float) or dpcrt_binary_f64 (T
/// double).
template <typename T>
DPC_HOST_DEVICE inline T applyBinary(int32_t kind, T x, T y, T alpha) {
  switch (kind) {
  case DPCRT_BINARY_ADD:
    return x + alpha * y;
  case DPCRT_BINARY_SUB:
    return x - alpha * y;
  case DPCRT_BINARY_MUL:
    return x * y;
  case DPCRT_BINARY_DIV:
    return x / y;
  case DPCRT_BINARY_MAXIMUM:
    // torch's maximum: NaN if either is NaN, else std::max (the first
    // operand on a tie).
    return (x != x || y != y) ? x + y : (x < y ? y : x);
  case DPCRT_BINARY_MINIMUM:
    return (x != x || y != y) ? x + y : (y < x ? y : x);
  default: // DPCRT_BINARY_POW: std::pow(T, T), as torch's kernel
    return powOf(x, y);
  }
}

/// One element of dpcrt_compare_f32 (_f64), before it becomes 1 or 0.
template <typename T>
DPC_HOST_DEVICE inline bool applyCompare(int32_t kind, T x, T y) {
  switch (kind) {
  case DPCRT_COMPARE_EQ:
    return x == y;
  case DPCRT_COMPARE_NE:
    return x != y;
  case DPCRT_COMPARE_LT:
    return x < y;
  case DPCRT_COMPARE_LE:
    return x <= y;
  case DPCRT_COMPARE_GT:
    return x > y;
  default: // DPCRT_COMPARE_GE
    return x >= y;
  }
}

/// The geometry of a 2-d convolution (abi.h's dpcrt_conv2d_dim).
struct Conv2dGeometry {
  int64_t n, c, h, w, o, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, groups;

  explicit Conv2dGeometry(const int64_t *d)
      : n(d[DPCRT_CONV2D_N]), c(d[DPCRT_CONV2D_C]), h(d[DPCRT_CONV2D_H]),
        w(d[DPCRT_CONV2D_W]), o(d[DPCRT_CONV2D_O]), kh(d[DPCRT_CONV2D_KH]),
        kw(d[DPCRT_CONV2D_KW]), oh(d[DPCRT_CONV2D_OH]), ow(d[DPCRT_CONV2D_OW]),
        sh(d[DPCRT_CONV2D_STRIDE_H]), sw(d[DPCRT_CONV2D_STRIDE_W]),
        ph(d[DPCRT_CONV2D_PAD_H]), pw(d[DPCRT_CONV2D_PAD_W]),
        dh(d[DPCRT_CONV2D_DILATION_H]), dw(d[DPCRT_CONV2D_DILATION_W]),
        groups(d[DPCRT_CONV2D_GROUPS]) {}

  /// Positive sizes, channels divisible by the groups, and the output size
  /// torch computes for this input, kernel, stride, padding and dilation.
  bool consistent() const {
    for (int64_t v : {n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, groups})
      if (v < 1)
        return false;
    if (ph < 0 || pw < 0 || c % groups || o % groups)
      return false;
    return oh == (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1 &&
           ow == (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  }

  /// The error of `kernel` for a geometry it cannot run.
  std::string invalidMessage(const char *kernel) const {
    return std::string(kernel) + ": invalid geometry (input [" +
           std::to_string(n) + ", " + std::to_string(c) + ", " +
           std::to_string(h) + ", " + std::to_string(w) +
           "], output channels " + std::to_string(o) + ", groups " +
           std::to_string(groups) + ")";
  }
};

/// The geometry of 2-d pooling (abi.h's dpcrt_pool2d_dim).
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

  static DPC_HOST_DEVICE int64_t smaller(int64_t a, int64_t b) {
    return a < b ? a : b;
  }
  static DPC_HOST_DEVICE int64_t larger(int64_t a, int64_t b) {
    return a < b ? b : a;
  }

  /// The index (in its plane) of the first maximum of output (y, x)'s
  /// window, NaN winning, as PyTorch's cpu_max_pool; -1 for a window of
  /// padding only.
  DPC_HOST_DEVICE int64_t argmax(const float *plane, int64_t y,
                                 int64_t x) const {
    int64_t y0 = y * sh - ph, x0 = x * sw - pw;
    int64_t y1 = smaller(y0 + (kh - 1) * dh + 1, h);
    int64_t x1 = smaller(x0 + (kw - 1) * dw + 1, w);
    while (y0 < 0)
      y0 += dh;
    while (x0 < 0)
      x0 += dw;
    int64_t index = y0 * w + x0;
    float best = -INFINITY;
    for (int64_t iy = y0; iy < y1; iy += dh)
      for (int64_t ix = x0; ix < x1; ix += dw) {
        float v = plane[iy * w + ix];
        if (v > best || v != v) { // v != v: NaN
          best = v;
          index = iy * w + ix;
        }
      }
    return (y0 < y1 && x0 < x1) ? index : -1;
  }

  /// Output (y, x) of max_pool2d: its window's first maximum (NaN winning),
  /// -inf for a window of padding only.
  DPC_HOST_DEVICE float maxValue(const float *plane, int64_t y,
                                 int64_t x) const {
    int64_t index = argmax(plane, y, x);
    return index < 0 ? -INFINITY : plane[index];
  }

  /// Output (y, x)'s average window, clipped to the input, and its divisor.
  struct Window {
    int64_t y0, y1, x0, x1, divisor;
  };
  DPC_HOST_DEVICE Window avgWindow(int64_t y, int64_t x, bool countIncludePad,
                                   int64_t divisorOverride) const {
    Window win;
    win.y0 = y * sh - ph;
    win.x0 = x * sw - pw;
    win.y1 = smaller(win.y0 + kh, h + ph);
    win.x1 = smaller(win.x0 + kw, w + pw);
    int64_t poolSize = (win.y1 - win.y0) * (win.x1 - win.x0);
    win.y0 = larger(win.y0, 0);
    win.x0 = larger(win.x0, 0);
    win.y1 = smaller(win.y1, h);
    win.x1 = smaller(win.x1, w);
    win.divisor = divisorOverride != 0 ? divisorOverride
                  : countIncludePad    ? poolSize
                                       : (win.y1 - win.y0) * (win.x1 - win.x0);
    return win;
  }

  /// Output (y, x) of avg_pool2d: the float sum of its window (row by row,
  /// as PyTorch's cpu_avg_pool) divided by the divisor; 0 for an empty
  /// window.
  DPC_HOST_DEVICE float avgValue(const float *plane, int64_t y, int64_t x,
                                 bool countIncludePad,
                                 int64_t divisorOverride) const {
    Window win = avgWindow(y, x, countIncludePad, divisorOverride);
    float sum = 0.0f;
    for (int64_t iy = win.y0; iy < win.y1; ++iy)
      for (int64_t ix = win.x0; ix < win.x1; ++ix)
        sum += plane[iy * w + ix];
    return (win.y0 >= win.y1 || win.x0 >= win.x1)
               ? 0.0f
               : sum / static_cast<float>(win.divisor);
  }
};

/// The windows of adaptive average pooling along one axis (PyTorch's
/// start_index and end_index): output i of `out` covers the inputs
/// [adaptiveStart(i), adaptiveEnd(i)) of `in`.
DPC_HOST_DEVICE inline int64_t adaptiveStart(int64_t i, int64_t out,
                                             int64_t in) {
  return (i * in) / out;
}
DPC_HOST_DEVICE inline int64_t adaptiveEnd(int64_t i, int64_t out, int64_t in) {
  return ((i + 1) * in + out - 1) / out;
}

/// Output (y, x) of the adaptive average pooling of an [h, w] plane to
/// [oh, ow] (other than 1x1, a mean): the float sum of its window divided by
/// the window's height, then by its width, as cpu_adaptive_avg_pool.
DPC_HOST_DEVICE inline float adaptiveAvgValue(const float *plane, int64_t h,
                                              int64_t w, int64_t oh, int64_t ow,
                                              int64_t y, int64_t x) {
  int64_t y0 = adaptiveStart(y, oh, h), y1 = adaptiveEnd(y, oh, h);
  int64_t x0 = adaptiveStart(x, ow, w), x1 = adaptiveEnd(x, ow, w);
  float sum = 0.0f;
  for (int64_t iy = y0; iy < y1; ++iy)
    for (int64_t ix = x0; ix < x1; ++ix)
      sum += plane[iy * w + ix];
  return sum / static_cast<float>(y1 - y0) / static_cast<float>(x1 - x0);
}

//===----------------------------------------------------------------------===//
// Optimizer updates
//===----------------------------------------------------------------------===//

/// The per-element constants of one SGD step, in the element type T.
template <typename T> struct SgdConstantsOf {
  T negLr, momentum, keep, weightDecay;
  bool nesterov;
  /// The first step (the runtime's step counter is 0): the momentum buffer
  /// starts as the gradient instead of decaying.
  bool first;
};
using SgdConstants = SgdConstantsOf<float>;

/// torch.optim.SGD computes the dampening's alpha (1 - dampening) in
/// double; the float32 kernels round it to float.
template <typename T>
inline SgdConstantsOf<T> sgdConstants(T lr, T momentum, T dampening,
                                      T weightDecay, bool nesterov,
                                      bool first) {
  SgdConstantsOf<T> c;
  c.negLr = -lr;
  c.momentum = momentum;
  c.keep = static_cast<T>(1.0 - static_cast<double>(dampening));
  c.weightDecay = weightDecay;
  c.nesterov = nesterov;
  c.first = first;
  return c;
}

/// Element i of dpcrt_sgd_update_f32 / _f64, in place (momentumBuf is only
/// touched when c.momentum != 0).
template <typename T>
DPC_HOST_DEVICE inline void sgdStep(T *param, T *momentumBuf, const T *grad,
                                    int64_t i, const SgdConstantsOf<T> &c) {
  T d = grad[i];
  if (c.weightDecay != T(0))
    d = d + c.weightDecay * param[i];
  if (c.momentum != T(0)) {
    T buf = c.first ? d : momentumBuf[i] * c.momentum + c.keep * d;
    momentumBuf[i] = buf;
    d = c.nesterov ? d + c.momentum * buf : buf;
  }
  param[i] = param[i] + c.negLr * d;
}

/// The per-element constants of one Adam step in the element type T: for
/// float rounded as torch rounds them, for double torch's Python floats.
template <typename T> struct AdamConstantsOf {
  T beta1, oneMinusBeta1;
  T beta2, oneMinusBeta2;
  T biasCorrection2Sqrt;
  T eps;
  T negStepSize;
  T weightDecay; // Adam: added to the gradient
  T decayFactor; // AdamW: 1 - lr * weight_decay
  bool decoupled;
};
using AdamConstants = AdamConstantsOf<float>;

/// The constants of the Adam step after `stepsTaken` steps. torch.optim.Adam
/// keeps a per-parameter step that is incremented before use, so the first
/// update runs with t = 1; the bias corrections and the step size are
/// Python float arithmetic (_single_tensor_adam), i.e. double, and the
/// tensor ops round them to the tensors' type T.
template <typename T>
inline AdamConstantsOf<T> adamConstantsOf(double lr, double beta1, double beta2,
                                          double eps, double weightDecay,
                                          bool decoupled, int64_t stepsTaken) {
  double t = static_cast<double>(stepsTaken + 1);
  double biasCorrection1 = 1.0 - std::pow(beta1, t);
  double biasCorrection2 = 1.0 - std::pow(beta2, t);
  double stepSize = lr / biasCorrection1;
  AdamConstantsOf<T> c;
  c.beta1 = static_cast<T>(beta1);
  c.oneMinusBeta1 = static_cast<T>(1.0 - beta1);
  c.beta2 = static_cast<T>(beta2);
  c.oneMinusBeta2 = static_cast<T>(1.0 - beta2);
  c.biasCorrection2Sqrt = static_cast<T>(std::sqrt(biasCorrection2));
  c.eps = static_cast<T>(eps);
  c.negStepSize = static_cast<T>(-stepSize);
  c.weightDecay = static_cast<T>(weightDecay);
  c.decayFactor = static_cast<T>(1.0 - lr * weightDecay);
  c.decoupled = decoupled;
  return c;
}

/// The float32 constants (dpcrt_adam_update_f32).
inline AdamConstants adamConstants(double lr, double beta1, double beta2,
                                   double eps, double weightDecay,
                                   bool decoupled, int64_t stepsTaken) {
  return adamConstantsOf<float>(lr, beta1, beta2, eps, weightDecay, decoupled,
                                stepsTaken);
}

/// Element i of dpcrt_adam_update_f32 / _f64, in place: torch 1.13's
/// single-tensor path, fusing a multiply-add exactly where its AVX2 kernels
/// do (add(alpha=) and addcmul, not addcdiv or mul; measured for float32,
/// and the float64 kernels are the same vectorized templates).
template <typename T>
DPC_HOST_DEVICE inline void adamStep(T *param, T *expAvg, T *expAvgSq,
                                     const T *grad, int64_t i,
                                     const AdamConstantsOf<T> &c) {
  T p = param[i];
  T g = grad[i];
  if (c.decoupled)
    p = p * c.decayFactor; // param.mul_(1 - lr * weight_decay)
  else if (c.weightDecay != T(0))
    g = fusedMultiplyAdd(p, c.weightDecay, g); // grad.add(param, alpha=wd)
  // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
  T m = fusedMultiplyAdd(g, c.oneMinusBeta1, expAvg[i] * c.beta1);
  // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
  T v = fusedMultiplyAdd(c.oneMinusBeta2 * g, g, expAvgSq[i] * c.beta2);
  // (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
  T denom = roundedSqrt(v) / c.biasCorrection2Sqrt + c.eps;
  // param.addcdiv_(exp_avg, denom, value=-step_size)
  param[i] = p + (c.negStepSize * m) / denom;
  expAvg[i] = m;
  expAvgSq[i] = v;
}

/// clip_grad_norm_: element g's term of a p-norm, accumulated in double
/// (p finite; the inf norm is a max instead).
template <typename T>
DPC_HOST_DEVICE inline double gradNormTerm(T g, double p) {
  double a = g < T(0) ? -static_cast<double>(g) : static_cast<double>(g);
  if (p == 2.0)
    return a * a;
  if (p == 1.0)
    return a;
  return pow(a, p);
}

/// clip_grad_norm_: the p-norm from its accumulated terms, as torch.norm
/// gives it in T (float32: rounded to float; float64: as computed).
template <typename T>
DPC_HOST_DEVICE inline T finishGradNorm(double sumOfTerms, double p) {
  if (p == 2.0)
    return static_cast<T>(sqrt(sumOfTerms));
  if (p == 1.0)
    return static_cast<T>(sumOfTerms);
  return static_cast<T>(pow(sumOfTerms, 1.0 / p));
}

/// clip_grad_norm_'s factor: `max_norm / (total_norm + 1e-6)` is Python's
/// float / Tensor, i.e. `(total_norm + 1e-6).reciprocal() * max_norm` in
/// T (1e-6 and max_norm rounded to T), then clamp(max=1.0) (a NaN norm
/// stays NaN, as in torch).
template <typename T>
DPC_HOST_DEVICE inline T clipGradNormCoefficient(T totalNorm, double maxNorm) {
  // float(1e-6) is the float literal 1e-6f.
  T reciprocal = T(1) / (totalNorm + static_cast<T>(1e-6));
  T coef = reciprocal * static_cast<T>(maxNorm);
  return coef > T(1) ? T(1) : coef;
}

/// clip_grad_value_: clamp(g, -v, v); a NaN gradient stays NaN.
DPC_HOST_DEVICE inline float clipGradValue(float g, float v) {
  return g < -v ? -v : (g > v ? v : g);
}

} // namespace dpc

#endif // DPC_RUNTIME_LIB_KERNEL_SHARED_H
