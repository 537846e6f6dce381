//===- elementwise_kernels.cpp - CPU kernels of the elementwise ops -------===//
//
// fill, scale, div_scalar, the unary ops and their gradients (formulas in
// kernel_shared.h, one loop per kind so that each vectorizes), the
// broadcasting binary ops, compare and masked_fill, and GELU (oneDNN,
// dnnl_eltwise.cpp: scalar std::erf per element made it 5-8x slower than
// torch's vectorized kernel; it agrees with double to 1e-6).
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/dnnl_eltwise.h"
#include "cpu/strided_loops.h"
#include "kernel_shared.h"

#include <algorithm>
#include <string>
#include <vector>

using dpc::recordError;

namespace {

// One loop per kind, with the kind's formula (kernel_shared.h) folded in.
template <int32_t Kind>
void unaryLoop(float *out, const float *in, int64_t n, dpc::UnaryParams p) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = dpc::applyUnary(Kind, in[i], p);
}

// Both loads are unconditional (arguments), so that ReLU's select vectorizes
// (a load under the condition kept it a mispredicted branch per element).
template <int32_t Kind>
void unaryGradLoop(float *dx, const float *dy, const float *saved, int64_t n,
                   dpc::UnaryParams p) {
  for (int64_t i = 0; i < n; ++i)
    dx[i] = dpc::applyUnaryGrad(Kind, dy[i], saved[i], p);
}

template <int32_t Kind>
void binaryLoop(float *out, const float *a, const float *b, int32_t rank,
                const int64_t *dims, float alpha) {
  dpc::cpu::broadcastLoop(out, a, b, rank, dims, [alpha](float x, float y) {
    return dpc::applyBinary(Kind, x, y, alpha);
  });
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

void unary_params_f32(dpcrt_context *ctx, int32_t kind, float *out,
                      const float *in, int64_t n, double p0, double p1,
                      double p2) {
  UnaryParams params{p0, p1, p2};
  switch (kind) {
#define DPC_UNARY_KIND(NAME, VALUE)                                            \
  case DPCRT_UNARY_##NAME:                                                     \
    return unaryLoop<DPCRT_UNARY_##NAME>(out, in, n, params);
#include "dpc/unary_kinds.def"
  }
  recordError(ctx, "unary: unknown kind " + std::to_string(kind));
}

void unary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *in,
               int64_t n) {
  unary_params_f32(ctx, kind, out, in, n, 0, 0, 0);
}

void unary_params_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx,
                           const float *dy, const float *saved, int64_t n,
                           double p0, double p1, double p2) {
  UnaryParams params{p0, p1, p2};
  switch (kind) {
#define DPC_UNARY_KIND(NAME, VALUE)                                            \
  case DPCRT_UNARY_##NAME:                                                     \
    return unaryGradLoop<DPCRT_UNARY_##NAME>(dx, dy, saved, n, params);
#include "dpc/unary_kinds.def"
  }
  recordError(ctx, "unary_grad: unknown kind " + std::to_string(kind));
}

void unary_grad_f32(dpcrt_context *ctx, int32_t kind, float *dx,
                    const float *dy, const float *saved, int64_t n) {
  unary_params_grad_f32(ctx, kind, dx, dy, saved, n, 0, 0, 0);
}

void binary_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                const float *b, int32_t rank, const int64_t *dims,
                float alpha) {
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
  }
  recordError(ctx, "binary: unknown kind " + std::to_string(kind));
}

void compare_f32(dpcrt_context *ctx, int32_t kind, float *out, const float *a,
                 const float *b, int32_t rank, const int64_t *dims) {
  if (rank < 0 || kind < DPCRT_COMPARE_EQ || kind > DPCRT_COMPARE_GE) {
    recordError(ctx, "compare: invalid rank or kind " + std::to_string(kind));
    return;
  }
  broadcastLoop(out, a, b, rank, dims, [kind](float x, float y) {
    return applyCompare(kind, x, y) ? 1.0f : 0.0f;
  });
}

void masked_fill_f32(dpcrt_context *ctx, float *out, const float *in,
                     const float *mask, int32_t rank, const int64_t *dims,
                     float value) {
  if (rank < 0) {
    recordError(ctx, "masked_fill: negative rank");
    return;
  }
  if (rank == 0) {
    out[0] = mask[0] != 0.0f ? value : in[0];
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
                 const float *x = in + off, *m = mask + offMask;
                 float *y = out + off;
                 // x[j] loaded unconditionally: the select vectorizes.
                 for (int64_t j = 0; j < inner; ++j) {
                   float v = x[j];
                   y[j] = m[j * innerMask] != 0.0f ? value : v;
                 }
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
