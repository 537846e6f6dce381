//===- elementwise_kernels.cpp - CPU kernels of the elementwise ops -------===//
//
// fill, scale, div_scalar, the unary ops and their gradients (formulas in
// kernel_shared.h; oneDNN's eltwise primitive for exp, silu and elu where
// it has torch's formula, libmvec's vector sin, cos, erf, log, log1p, exp,
// tanh and pow for the other transcendental kinds, one loop per
// kind that the compiler vectorizes for the rest, all threaded), the
// broadcasting binary ops, compare, masked_fill, where, the int64 to
// float32 conversion, and GELU (oneDNN,
// dnnl_eltwise.cpp: scalar std::erf per element made it 5-8x slower than
// torch's vectorized kernel; it agrees with double to 1e-6). The float64
// kernels (fill, scale, div_scalar, unary, unary_grad, binary) are the
// same formulas in double, one threaded loop per kind.
//
//===----------------------------------------------------------------------===//

#include "comm/grad_compression.h"
#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/dnnl_eltwise.h"
#include "cpu/parallel_chunks.h"
#include "cpu/strided_loops.h"
#include "kernel_shared.h"

#include <oneapi/dnnl/dnnl_types.h>
#include <xmmintrin.h>

#include <algorithm>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

using dpc::recordError;

namespace {

using dpc::parallelChunks;
using dpc::UnaryParams;

// libmvec's 4-wide SSE functions (glibc >= 2.35 for erff and log1pf; the
// x86-64 vector function ABI names GCC calls for vectorized sinf), for the
// kinds oneDNN has no primitive for. Each element's result depends on its
// value only, not on its position or n (a partial last group is padded).
extern "C" {
__m128 _ZGVbN4v_sinf(__m128);
__m128 _ZGVbN4v_cosf(__m128);
__m128 _ZGVbN4v_expf(__m128);
__m128 _ZGVbN4v_erff(__m128);
__m128 _ZGVbN4v_log1pf(__m128);
__m128 _ZGVbN4v_logf(__m128);
__m128 _ZGVbN4v_tanhf(__m128);
__m128 _ZGVbN4vv_powf(__m128, __m128);
}

/// A libmvec function of one argument.
using VectorMath = __m128 (*)(__m128);

/// v[i] = f(v[i]) for i in [0, n), four at a time.
void mapInPlace(VectorMath f, float *v, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm_storeu_ps(v + i, f(_mm_loadu_ps(v + i)));
  if (i == n)
    return;
  float padded[4] = {0, 0, 0, 0};
  std::copy(v + i, v + n, padded);
  _mm_storeu_ps(padded, f(_mm_loadu_ps(padded)));
  std::copy(padded, padded + (n - i), v + i);
}

/// v[i] = powf(v[i], exponent) for i in [0, n), four at a time.
void powInPlace(float *v, float exponent, int64_t n) {
  __m128 e = _mm_set1_ps(exponent);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm_storeu_ps(v + i, _ZGVbN4vv_powf(_mm_loadu_ps(v + i), e));
  if (i == n)
    return;
  float padded[4] = {1, 1, 1, 1};
  std::copy(v + i, v + n, padded);
  _mm_storeu_ps(padded, _ZGVbN4vv_powf(_mm_loadu_ps(padded), e));
  std::copy(padded, padded + (n - i), v + i);
}

/// Calls `body(offset, count)` for consecutive blocks of at most kBlock
/// elements of [begin, end): the libmvec kinds compute a block's
/// transcendental values into a stack buffer, then combine them with the
/// block's inputs, so that an output may alias an input.
constexpr int64_t kBlock = 256;
template <typename Body> void inBlocks(int64_t begin, int64_t end, Body body) {
  for (int64_t i = begin; i < end; i += kBlock)
    body(i, std::min(kBlock, end - i));
}

/// Whether torch's pow(Tensor, Scalar) computes x ** exponent by one of its
/// fast paths (powScalar's special exponents), which vectorize as plain
/// loops; other exponents take libmvec's powf.
bool isPowFastPath(double exponent) {
  for (double e : {0.0, 1.0, 0.5, -0.5, -1.0, 2.0, 3.0, -2.0})
    if (exponent == e)
      return true;
  return false;
}

/// Calls `body(f)` with f(x) = x ** exponent as torch's pow(Tensor, Scalar)
/// computes it for one of its fast-path exponents (powScalar's), as a lambda
/// of its own, so that the loop in `body` vectorizes (a test of the exponent
/// per element would keep it scalar); false for other exponents.
template <typename Body> bool withPowFastPath(double exponent, Body body) {
  if (exponent == 0.0)
    body([](float) { return 1.0f; });
  else if (exponent == 1.0)
    body([](float x) { return x; });
  else if (exponent == 0.5)
    body([](float x) { return dpc::roundedSqrt(x); });
  else if (exponent == -0.5)
    body([](float x) { return 1.0f / dpc::roundedSqrt(x); });
  else if (exponent == -1.0)
    body([](float x) { return 1.0f / x; });
  else if (exponent == 2.0)
    body([](float x) { return x * x; });
  else if (exponent == 3.0)
    body([](float x) { return x * x * x; });
  else if (exponent == -2.0)
    body([](float x) { return 1.0f / (x * x); });
  else
    return false;
  return true;
}

/// Whether the forward (or the gradient) of `kind` with `p` takes
/// libmvec's functions (vectorMathUnary, vectorMathUnaryGrad).
bool usesVectorMath(int32_t kind, UnaryParams p, bool gradient) {
  switch (kind) {
  case DPCRT_UNARY_TANH:
  case DPCRT_UNARY_SIGMOID:
    return !gradient; // dy * (1 - y * y), dy * y * (1 - y)
  case DPCRT_UNARY_SIN:
  case DPCRT_UNARY_COS:
  case DPCRT_UNARY_ERF:
  case DPCRT_UNARY_SOFTPLUS:
  case DPCRT_UNARY_MISH:
  case DPCRT_UNARY_ELU:
    return true;
  case DPCRT_UNARY_LOG:
  case DPCRT_UNARY_LOG1P:
    return !gradient; // dy / x, dy / (x + 1)
  case DPCRT_UNARY_POW_SCALAR:
    return gradient ? p.p0 != 0.0 && !isPowFastPath(p.p0 - 1.0)
                    : !isPowFastPath(p.p0);
  default:
    return false;
  }
}

// One loop per kind, with the kind's formula (kernel_shared.h) folded in;
// the compiler vectorizes it (-fno-math-errno lets sqrt vectorize). Not
// inlined into the dispatching switch: inside that large function GCC
// stopped inlining applyUnary and called it per element. T is float, or
// double for the _f64 kernels (every kind, its libm calls per element).
template <int32_t Kind, typename T>
[[gnu::noinline]] void unaryLoop(T *out, const T *in, int64_t n,
                                 UnaryParams p) {
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = dpc::applyUnary(Kind, in[i], p);
  });
}

/// nn.round_f16: with F16C's conversions where the CPU has them (one
/// instruction per 8 values instead of two libgcc calls per value), the
/// gradient compression's loop.
void roundToFloat16InChunks(float *out, const float *in, int64_t n) {
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    dpc::roundToFloat16s(in + begin, end - begin, out + begin);
  });
}

/// tanh's gradient over [0, n), compiled twice like the optimizer loops: the
/// FMA clone vectorizes its fused multiply-add (kernel_shared.h), the
/// default one calls fmaf (fma for the double overload).
__attribute__((target_clones("fma", "default"))) void
tanhGradRange(float *dx, const float *dy, const float *y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    dx[i] = dpc::applyUnaryGrad(DPCRT_UNARY_TANH, dy[i], y[i]);
}

__attribute__((target_clones("fma", "default"))) void
tanhGradRange(double *dx, const double *dy, const double *y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    dx[i] = dpc::applyUnaryGrad(DPCRT_UNARY_TANH, dy[i], y[i]);
}

// Both loads are unconditional (arguments), so that ReLU's select vectorizes
// (a load under the condition kept it a mispredicted branch per element).
template <int32_t Kind, typename T>
[[gnu::noinline]] void unaryGradLoop(T *dx, const T *dy, const T *saved,
                                     int64_t n, UnaryParams p) {
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      dx[i] = dpc::applyUnaryGrad(Kind, dy[i], saved[i], p);
  });
}

/// The oneDNN eltwise algorithm that computes `kind` with parameters `p` as
/// torch's formula does, to float32 accuracy (kernel_shared.h's formulas;
/// the unit test PointwiseKindsAgainstDouble holds both to 1e-6), if any.
/// Not log and what builds on it (softplus, mish): oneDNN's log is off by
/// up to 3e-6 near 1, libmvec's logf and log1pf by an ulp or two.
std::optional<dpc::DnnlEltwiseForm> dnnlForm(int32_t kind, UnaryParams p) {
  switch (kind) {
  case DPCRT_UNARY_EXP:
    // Backward: dy * y (torch's exp backward reads the result).
    return dpc::DnnlEltwiseForm{dnnl_eltwise_exp_use_dst_for_bwd, 0, 0, true};
  case DPCRT_UNARY_SILU:
    // x / (1 + exp(-x)); backward dy * s * (1 + x * (1 - s)), s = sigmoid.
    return dpc::DnnlEltwiseForm{dnnl_eltwise_swish, 1.0f};
  case DPCRT_UNARY_ELU:
    // alpha * (exp(x) - 1) for x <= 0: torch's with scale and input_scale 1.
    if (p.p1 == 1.0 && p.p2 == 1.0)
      return dpc::DnnlEltwiseForm{dnnl_eltwise_elu, static_cast<float>(p.p0)};
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

/// The forward of the kinds whose transcendental part is a libmvec call,
/// over [begin, end); false for the other kinds.
bool vectorMathUnary(int32_t kind, float *out, const float *in, int64_t begin,
                     int64_t end, UnaryParams p) {
  VectorMath direct = nullptr;
  switch (kind) {
  case DPCRT_UNARY_SIN:
    direct = _ZGVbN4v_sinf;
    break;
  case DPCRT_UNARY_COS:
    direct = _ZGVbN4v_cosf;
    break;
  case DPCRT_UNARY_ERF:
    direct = _ZGVbN4v_erff;
    break;
  case DPCRT_UNARY_LOG1P:
    direct = _ZGVbN4v_log1pf;
    break;
  case DPCRT_UNARY_LOG:
    direct = _ZGVbN4v_logf;
    break;
  case DPCRT_UNARY_TANH:
    direct = _ZGVbN4v_tanhf;
    break;
  case DPCRT_UNARY_SIGMOID:
    // 1 / (1 + exp(-x)), torch's formula
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock];
      for (int64_t i = 0; i < count; ++i)
        t[i] = -in[at + i];
      mapInPlace(_ZGVbN4v_expf, t, count);
      for (int64_t i = 0; i < count; ++i)
        out[at + i] = 1.0f / (1.0f + t[i]);
    });
    return true;
  case DPCRT_UNARY_MISH:
    // x * tanh(log1p(exp(x)))
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock];
      std::copy(in + at, in + at + count, t);
      mapInPlace(_ZGVbN4v_expf, t, count);
      mapInPlace(_ZGVbN4v_log1pf, t, count);
      mapInPlace(_ZGVbN4v_tanhf, t, count);
      for (int64_t i = 0; i < count; ++i)
        out[at + i] = in[at + i] * t[i];
    });
    return true;
  case DPCRT_UNARY_SOFTPLUS: {
    // x * beta > threshold ? x : log1p(exp(x * beta)) / beta
    float beta = static_cast<float>(p.p0), threshold = static_cast<float>(p.p1);
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock];
      for (int64_t i = 0; i < count; ++i)
        t[i] = in[at + i] * beta;
      mapInPlace(_ZGVbN4v_expf, t, count);
      mapInPlace(_ZGVbN4v_log1pf, t, count);
      for (int64_t i = 0; i < count; ++i) {
        float x = in[at + i];
        out[at + i] = x * beta > threshold ? x : t[i] / beta;
      }
    });
    return true;
  }
  case DPCRT_UNARY_ELU: {
    // x <= 0 ? (exp(x * input_scale) - 1) * alpha * scale : x * scale
    float negcoef = static_cast<float>(p.p0) * static_cast<float>(p.p1);
    float poscoef = static_cast<float>(p.p1);
    float negiptcoef = static_cast<float>(p.p2);
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock];
      for (int64_t i = 0; i < count; ++i)
        t[i] = in[at + i] * negiptcoef;
      mapInPlace(_ZGVbN4v_expf, t, count);
      for (int64_t i = 0; i < count; ++i) {
        float x = in[at + i];
        out[at + i] = x <= 0.0f ? (t[i] - 1.0f) * negcoef : x * poscoef;
      }
    });
    return true;
  }
  case DPCRT_UNARY_POW_SCALAR: {
    if (isPowFastPath(p.p0))
      return false;
    float exponent = static_cast<float>(p.p0);
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock];
      std::copy(in + at, in + at + count, t);
      powInPlace(t, exponent, count);
      std::copy(t, t + count, out + at);
    });
    return true;
  }
  default:
    return false;
  }
  inBlocks(begin, end, [&](int64_t at, int64_t count) {
    float t[kBlock];
    std::copy(in + at, in + at + count, t);
    mapInPlace(direct, t, count);
    std::copy(t, t + count, out + at);
  });
  return true;
}

/// The gradient of the kinds whose derivative needs a libmvec call, over
/// [begin, end); false for the other kinds.
bool vectorMathUnaryGrad(int32_t kind, float *dx, const float *dy,
                         const float *saved, int64_t begin, int64_t end,
                         UnaryParams p) {
  switch (kind) {
  case DPCRT_UNARY_SIN:
  case DPCRT_UNARY_COS: {
    // sin: dy * cos(x); cos: dy * -sin(x)
    bool sine = kind == DPCRT_UNARY_SIN;
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock];
      std::copy(saved + at, saved + at + count, t);
      mapInPlace(sine ? _ZGVbN4v_cosf : _ZGVbN4v_sinf, t, count);
      for (int64_t i = 0; i < count; ++i)
        dx[at + i] = sine ? dy[at + i] * t[i] : dy[at + i] * -t[i];
    });
    return true;
  }
  case DPCRT_UNARY_MISH:
    // s = sigmoid(x), t = tanh(softplus(x)): dy * (t + x * s * (1 - t * t))
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock], e[kBlock];
      for (int64_t i = 0; i < count; ++i) {
        t[i] = saved[at + i];
        e[i] = -saved[at + i];
      }
      mapInPlace(_ZGVbN4v_expf, t, count);
      mapInPlace(_ZGVbN4v_log1pf, t, count);
      mapInPlace(_ZGVbN4v_tanhf, t, count);
      mapInPlace(_ZGVbN4v_expf, e, count);
      for (int64_t i = 0; i < count; ++i) {
        float x = saved[at + i], sigmoid = 1.0f / (1.0f + e[i]);
        dx[at + i] = dy[at + i] * (t[i] + x * sigmoid * (1.0f - t[i] * t[i]));
      }
    });
    return true;
  case DPCRT_UNARY_ERF:
    // 2 / sqrt(pi) * exp(-(x * x)) * dy
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock];
      for (int64_t i = 0; i < count; ++i)
        t[i] = -(saved[at + i] * saved[at + i]);
      mapInPlace(_ZGVbN4v_expf, t, count);
      for (int64_t i = 0; i < count; ++i)
        dx[at + i] = (1.12837916709551257f * t[i]) * dy[at + i];
    });
    return true;
  case DPCRT_UNARY_SOFTPLUS: {
    // z = exp(x * beta); x * beta > threshold ? dy : dy * z / (z + 1)
    float beta = static_cast<float>(p.p0), threshold = static_cast<float>(p.p1);
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock];
      for (int64_t i = 0; i < count; ++i)
        t[i] = saved[at + i] * beta;
      mapInPlace(_ZGVbN4v_expf, t, count);
      for (int64_t i = 0; i < count; ++i) {
        float x = saved[at + i], g = dy[at + i];
        dx[at + i] = x * beta > threshold ? g : g * t[i] / (t[i] + 1.0f);
      }
    });
    return true;
  }
  case DPCRT_UNARY_ELU: {
    // x <= 0 ? dy * input_scale * alpha * scale * exp(x * input_scale)
    //        : dy * scale
    float negcoef = static_cast<float>(p.p0) * static_cast<float>(p.p1);
    float poscoef = static_cast<float>(p.p1);
    float negiptcoef = static_cast<float>(p.p2);
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock];
      for (int64_t i = 0; i < count; ++i)
        t[i] = saved[at + i] * negiptcoef;
      mapInPlace(_ZGVbN4v_expf, t, count);
      for (int64_t i = 0; i < count; ++i) {
        float x = saved[at + i], g = dy[at + i];
        dx[at + i] = x <= 0.0f ? g * negiptcoef * negcoef * t[i] : g * poscoef;
      }
    });
    return true;
  }
  case DPCRT_UNARY_POW_SCALAR: {
    // dy * (exponent * x ** (exponent - 1)), 0 for the exponent 0
    if (p.p0 == 0.0 || isPowFastPath(p.p0 - 1.0))
      return false;
    float exponent = static_cast<float>(p.p0);
    float lowered = static_cast<float>(p.p0 - 1.0);
    inBlocks(begin, end, [&](int64_t at, int64_t count) {
      float t[kBlock];
      std::copy(saved + at, saved + at + count, t);
      powInPlace(t, lowered, count);
      for (int64_t i = 0; i < count; ++i)
        dx[at + i] = dy[at + i] * (exponent * t[i]);
    });
    return true;
  }
  default:
    return false;
  }
}

template <int32_t Kind, typename T>
void binaryLoop(T *out, const T *a, const T *b, int32_t rank,
                const int64_t *dims, T alpha) {
  dpc::cpu::broadcastLoop(out, a, b, rank, dims, [alpha](T x, T y) {
    return dpc::applyBinary(Kind, x, y, alpha);
  });
}

/// out = a ** b with broadcasting: the broadcast base into `out` and the
/// broadcast exponent into a buffer, then libmvec's powf over both (the
/// same powf per element as powInPlace).
void powBroadcast(float *out, const float *a, const float *b, int32_t rank,
                  const int64_t *dims) {
  int64_t n = 1;
  for (int32_t d = 0; d < rank; ++d)
    n *= dims[d];
  if (n <= 0)
    return;
  std::vector<float> exponent(static_cast<size_t>(n));
  float *e = exponent.data();
  dpc::cpu::broadcastLoop(e, a, b, rank, dims,
                          [](float, float y) { return y; });
  dpc::cpu::broadcastLoop(out, a, b, rank, dims,
                          [](float x, float) { return x; });
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    int64_t i = begin;
    for (; i + 4 <= end; i += 4)
      _mm_storeu_ps(out + i,
                    _ZGVbN4vv_powf(_mm_loadu_ps(out + i), _mm_loadu_ps(e + i)));
    if (i == end)
      return;
    float base[4] = {1, 1, 1, 1}, power[4] = {1, 1, 1, 1};
    std::copy(out + i, out + end, base);
    std::copy(e + i, e + end, power);
    _mm_storeu_ps(base,
                  _ZGVbN4vv_powf(_mm_loadu_ps(base), _mm_loadu_ps(power)));
    std::copy(base, base + (end - i), out + i);
  });
}

// The unary kinds: oneDNN's eltwise primitive where it computes torch's
// formula (dnnlForm), libmvec for the other transcendental ones
// (vectorMathUnary), a loop the compiler vectorizes for the rest; all
// threaded (oneDNN by itself, the others by parallelChunks). The fast paths
// below are float32 only (oneDNN's eltwise primitives, libmvec's vector
// functions and F16C are); float64 runs every kind as its loop of
// kernel_shared.h's formula in double (glibc's double exp, tanh, ... per
// element, as PyTorch's float64 kernels compute them to within an ulp).

/// unary_params_f32's kinds that do not run as unaryLoop: whether it
/// computed out.
bool float32UnaryFastPath(dpcrt_context *ctx, int32_t kind, float *out,
                          const float *in, int64_t n, UnaryParams params) {
  if (std::optional<dpc::DnnlEltwiseForm> form = dnnlForm(kind, params)) {
    dpc::dnnlEltwise(ctx, "unary", *form, /*backward=*/false, out, in, nullptr,
                     n);
    return true;
  }
  if (kind == DPCRT_UNARY_POW_SCALAR &&
      withPowFastPath(params.p0, [&](auto pow) {
        parallelChunks(n, [=](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i)
            out[i] = pow(in[i]);
        });
      }))
    return true;
  if (usesVectorMath(kind, params, /*gradient=*/false)) {
    parallelChunks(n, [&](int64_t begin, int64_t end) {
      vectorMathUnary(kind, out, in, begin, end, params);
    });
    return true;
  }
  if (kind == DPCRT_UNARY_ROUND_F16) {
    roundToFloat16InChunks(out, in, n);
    return true;
  }
  return false;
}

/// unary_params_grad_f32's kinds that do not run as tanhGradRange or
/// unaryGradLoop: whether it computed dx.
bool float32UnaryGradFastPath(dpcrt_context *ctx, int32_t kind, float *dx,
                              const float *dy, const float *saved, int64_t n,
                              UnaryParams params) {
  // EXP's gradient is nn.mul (dy * y) in the compiler; the kernel keeps the
  // loop. The others of dnnlForm differentiate as torch does.
  if (kind != DPCRT_UNARY_EXP)
    if (std::optional<dpc::DnnlEltwiseForm> form = dnnlForm(kind, params)) {
      dpc::dnnlEltwise(ctx, "unary_grad", *form, /*backward=*/true, dx, saved,
                       dy, n);
      return true;
    }
  // pow: dy * (exponent * x ** (exponent - 1)), zero for the exponent 0.
  if (kind == DPCRT_UNARY_POW_SCALAR && params.p0 != 0.0 &&
      withPowFastPath(params.p0 - 1.0, [&](auto pow) {
        float exponent = static_cast<float>(params.p0);
        parallelChunks(n, [=](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i)
            dx[i] = dy[i] * (exponent * pow(saved[i]));
        });
      }))
    return true;
  if (usesVectorMath(kind, params, /*gradient=*/true)) {
    parallelChunks(n, [&](int64_t begin, int64_t end) {
      vectorMathUnaryGrad(kind, dx, dy, saved, begin, end, params);
    });
    return true;
  }
  // nn.round_f16's gradient is the rounded gradient.
  if (kind == DPCRT_UNARY_ROUND_F16) {
    roundToFloat16InChunks(dx, dy, n);
    return true;
  }
  return false;
}

/// unary_params_f32 and unary_params_f64 (T float or double).
template <typename T>
void unaryKernel(dpcrt_context *ctx, int32_t kind, T *out, const T *in,
                 int64_t n, UnaryParams params) {
  if (!dpc::isUnaryKind(kind)) {
    recordError(ctx, "unary: unknown kind " + std::to_string(kind));
    return;
  }
  if constexpr (std::is_same_v<T, float>)
    if (float32UnaryFastPath(ctx, kind, out, in, n, params))
      return;
  switch (kind) {
#define DPC_UNARY_KIND(NAME, VALUE)                                            \
  case DPCRT_UNARY_##NAME:                                                     \
    return unaryLoop<DPCRT_UNARY_##NAME>(out, in, n, params);
#include "dpc/unary_kinds.def"
  }
}

/// unary_params_grad_f32 and unary_params_grad_f64 (T float or double).
template <typename T>
void unaryGradKernel(dpcrt_context *ctx, int32_t kind, T *dx, const T *dy,
                     const T *saved, int64_t n, UnaryParams params) {
  if (!dpc::isUnaryKind(kind)) {
    recordError(ctx, "unary_grad: unknown kind " + std::to_string(kind));
    return;
  }
  if constexpr (std::is_same_v<T, float>)
    if (float32UnaryGradFastPath(ctx, kind, dx, dy, saved, n, params))
      return;
  if (kind == DPCRT_UNARY_TANH) {
    parallelChunks(n, [=](int64_t begin, int64_t end) {
      tanhGradRange(dx + begin, dy + begin, saved + begin, end - begin);
    });
    return;
  }
  switch (kind) {
#define DPC_UNARY_KIND(NAME, VALUE)                                            \
  case DPCRT_UNARY_##NAME:                                                     \
    return unaryGradLoop<DPCRT_UNARY_##NAME>(dx, dy, saved, n, params);
#include "dpc/unary_kinds.def"
  }
}

/// binary_f32 and binary_f64 (T float or double): one broadcasting loop per
/// kind. float32's pow runs on libmvec's powf (powBroadcast); float64's is
/// its loop too (std::pow(double, double) per element).
template <typename T>
void binaryKernel(dpcrt_context *ctx, int32_t kind, T *out, const T *a,
                  const T *b, int32_t rank, const int64_t *dims, T alpha) {
  if (rank < 0) {
    recordError(ctx, "binary: negative rank " + std::to_string(rank));
    return;
  }
  switch (kind) {
  case DPCRT_BINARY_ADD:
    return binaryLoop<DPCRT_BINARY_ADD>(out, a, b, rank, dims, alpha);
  case DPCRT_BINARY_SUB:
    return binaryLoop<DPCRT_BINARY_SUB>(out, a, b, rank, dims, alpha);
  case DPCRT_BINARY_MUL:
    return binaryLoop<DPCRT_BINARY_MUL>(out, a, b, rank, dims, alpha);
  case DPCRT_BINARY_DIV:
    return binaryLoop<DPCRT_BINARY_DIV>(out, a, b, rank, dims, alpha);
  case DPCRT_BINARY_MAXIMUM:
    return binaryLoop<DPCRT_BINARY_MAXIMUM>(out, a, b, rank, dims, alpha);
  case DPCRT_BINARY_MINIMUM:
    return binaryLoop<DPCRT_BINARY_MINIMUM>(out, a, b, rank, dims, alpha);
  case DPCRT_BINARY_POW:
    if constexpr (std::is_same_v<T, float>)
      return powBroadcast(out, a, b, rank, dims);
    else
      return binaryLoop<DPCRT_BINARY_POW>(out, a, b, rank, dims, alpha);
  }
  recordError(ctx, "binary: unknown kind " + std::to_string(kind));
}

} // namespace

namespace dpc::cpu {

void fill_f32(dpcrt_context *, float *out, int64_t n, float value) {
  std::fill(out, out + std::max<int64_t>(n, 0), value);
}

void scale_f32(dpcrt_context *, float *out, const float *in, int64_t n,
               float factor) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = in[i] * factor;
}

void div_scalar_f32(dpcrt_context *, float *out, const float *in, int64_t n,
                    float divisor) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = in[i] / divisor;
}

void fill_f64(dpcrt_context *, double *out, int64_t n, double value) {
  std::fill(out, out + std::max<int64_t>(n, 0), value);
}

void scale_f64(dpcrt_context *, double *out, const double *in, int64_t n,
               double factor) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = in[i] * factor;
}

void div_scalar_f64(dpcrt_context *, double *out, const double *in, int64_t n,
                    double divisor) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = in[i] / divisor;
}

void unary_params_f32(dpcrt_context *ctx, int32_t kind, float *out,
                      const float *in, int64_t n, double p0, double p1,
                      double p2) {
  unaryKernel(ctx, kind, out, in, n, UnaryParams{p0, p1, p2});
}

void unary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
               int64_t n) {
  unary_params_f32(ctx, kind, out, in, n, 0, 0, 0);
}

void unary_params_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx,
                           const float *dy, const float *saved, int64_t n,
                           double p0, double p1, double p2) {
  unaryGradKernel(ctx, kind, dx, dy, saved, n, UnaryParams{p0, p1, p2});
}

void unary_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx,
                    const float *dy, const float *saved, int64_t n) {
  unary_params_grad_f32(ctx, kind, dx, dy, saved, n, 0, 0, 0);
}

void unary_params_f64(dpcrt_context *ctx, int32_t kind, double *out,
                      const double *in, int64_t n, double p0, double p1,
                      double p2) {
  unaryKernel(ctx, kind, out, in, n, UnaryParams{p0, p1, p2});
}

void unary_f64(dpcrt_context *ctx, int32_t kind, double *out, const double *in,
               int64_t n) {
  unary_params_f64(ctx, kind, out, in, n, 0, 0, 0);
}

void unary_params_grad_f64(dpcrt_context *ctx, int32_t kind, double *dx,
                           const double *dy, const double *saved, int64_t n,
                           double p0, double p1, double p2) {
  unaryGradKernel(ctx, kind, dx, dy, saved, n, UnaryParams{p0, p1, p2});
}

void unary_grad_f64(dpcrt_context *ctx, int32_t kind, double *dx,
                    const double *dy, const double *saved, int64_t n) {
  unary_params_grad_f64(ctx, kind, dx, dy, saved, n, 0, 0, 0);
}

void binary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                const float *b, int32_t rank, const int64_t *dims,
                float alpha) {
  binaryKernel(ctx, kind, out, a, b, rank, dims, alpha);
}

void binary_f64(dpcrt_context *ctx, int32_t kind, double *out, const double *a,
                const double *b, int32_t rank, const int64_t *dims,
                double alpha) {
  binaryKernel(ctx, kind, out, a, b, rank, dims, alpha);
}

namespace {

// compare, masked_fill and where for float32 and float64 (a float64 model's
// masks are float64 0/1 tensors).

template <typename T>
void compareKernel(dpcrt_context *ctx, int32_t kind, T *out, const T *a,
                   const T *b, int32_t rank, const int64_t *dims) {
  if (rank < 0 || kind < DPCRT_COMPARE_EQ || kind > DPCRT_COMPARE_GE) {
    recordError(ctx, "compare: invalid rank or kind " + std::to_string(kind));
    return;
  }
  broadcastLoop(out, a, b, rank, dims, [kind](T x, T y) {
    return applyCompare(kind, x, y) ? T(1) : T(0);
  });
}

template <typename T>
void maskedFill(dpcrt_context *ctx, T *out, const T *in, const T *mask,
                int32_t rank, const int64_t *dims, T value) {
  if (rank < 0) {
    recordError(ctx, "masked_fill: negative rank");
    return;
  }
  if (rank == 0) {
    out[0] = mask[0] != T(0) ? value : in[0];
    return;
  }
  std::vector<int64_t> dense(static_cast<size_t>(rank));
  int64_t stride = 1;
  for (int32_t d = rank; d-- > 0;) {
    dense[d] = stride;
    stride *= dims[d];
  }
  int64_t inner = dims[rank - 1], innerMask = dims[2 * rank - 1];
  forEachIndex(rank - 1, dims, dense.data(), dims + rank,
               [&](int64_t off, int64_t offMask) {
                 const T *x = in + off, *m = mask + offMask;
                 T *y = out + off;
                 // x[j] loaded unconditionally: the select vectorizes.
                 for (int64_t j = 0; j < inner; ++j) {
                   T v = x[j];
                   y[j] = m[j * innerMask] != T(0) ? value : v;
                 }
               });
}

template <typename T>
void whereKernel(T *out, const T *condition, const T *a, const T *b,
                 int64_t n) {
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    // Both values loaded unconditionally: the select vectorizes.
    for (int64_t i = begin; i < end; ++i) {
      T x = a[i], y = b[i];
      out[i] = condition[i] != T(0) ? x : y;
    }
  });
}

} // namespace

void compare_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                 const float *b, int32_t rank, const int64_t *dims) {
  compareKernel(ctx, kind, out, a, b, rank, dims);
}

void compare_f64(dpcrt_context *ctx, int32_t kind, double *out, const double *a,
                 const double *b, int32_t rank, const int64_t *dims) {
  compareKernel(ctx, kind, out, a, b, rank, dims);
}

void masked_fill_f32(dpcrt_context *ctx, float *out, const float *in,
                     const float *mask, int32_t rank, const int64_t *dims,
                     float value) {
  maskedFill(ctx, out, in, mask, rank, dims, value);
}

void masked_fill_f64(dpcrt_context *ctx, double *out, const double *in,
                     const double *mask, int32_t rank, const int64_t *dims,
                     double value) {
  maskedFill(ctx, out, in, mask, rank, dims, value);
}

void where_f32(dpcrt_context *, float *out, const float *condition,
               const float *a, const float *b, int64_t n) {
  whereKernel(out, condition, a, b, n);
}

void where_f64(dpcrt_context *, double *out, const double *condition,
               const double *a, const double *b, int64_t n) {
  whereKernel(out, condition, a, b, n);
}

void convert_i64_f32(dpcrt_context *, float *out, const int64_t *in,
                     int64_t n) {
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = static_cast<float>(in[i]);
  });
}

// The 16-bit copies of saved activations (--precision bf16|fp16): one
// memory-bound pass each way. bfloat16 is integer arithmetic on the bits;
// float16 goes through F16C where the CPU has it.
void pack_bf16(dpcrt_context *, uint16_t *out, const float *in, int64_t n) {
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = floatToBFloat16Bits(in[i]);
  });
}

void unpack_bf16(dpcrt_context *, float *out, const uint16_t *in, int64_t n) {
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = bfloat16BitsToFloat(in[i]);
  });
}

void pack_f16(dpcrt_context *, uint16_t *out, const float *in, int64_t n) {
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    dpc::floatsToHalfBits(in + begin, end - begin, out + begin);
  });
}

void unpack_f16(dpcrt_context *, float *out, const uint16_t *in, int64_t n) {
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    dpc::halfBitsToFloats(in + begin, end - begin, out + begin);
  });
}

void gelu_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
              int64_t n) {
  if (kind != DPCRT_GELU_ERF && kind != DPCRT_GELU_TANH) {
    recordError(ctx, "gelu: unknown kind " + std::to_string(kind));
    return;
  }
  // oneDNN's eltwise_gelu_erf / eltwise_gelu_tanh: torch's formulas with
  // vectorized erf and tanh (see dnnl_eltwise.cpp).
  dpc::dnnlGelu(ctx, "gelu", kind == DPCRT_GELU_TANH, /*backward=*/false, out,
                in, nullptr, n);
}

void gelu_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx, const float *dy,
                   const float *x, int64_t n) {
  if (kind != DPCRT_GELU_ERF && kind != DPCRT_GELU_TANH) {
    recordError(ctx, "gelu_grad: unknown kind " + std::to_string(kind));
    return;
  }
  dpc::dnnlGelu(ctx, "gelu_grad", kind == DPCRT_GELU_TANH, /*backward=*/true,
                dx, x, dy, n);
}

} // namespace dpc::cpu
