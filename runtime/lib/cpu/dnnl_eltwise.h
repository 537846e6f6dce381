//===- dnnl_eltwise.h - GELU and softmax on oneDNN --------------*- C++ -*-===//
//
// The element-wise transcendental kernels (GELU, softmax, log-softmax, the
// unary kinds oneDNN has, and their gradients) run on oneDNN's jitted
// primitives, which vectorize exp and erf as PyTorch's Sleef-based kernels do;
// scalar libm calls per element cost 5-10x more. Errors are recorded on the
// context under `kernel`.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_DNNL_ELTWISE_H
#define DPC_RUNTIME_DNNL_ELTWISE_H

#include "dpc/abi.h"

#include <cstdint>

namespace dpc {

/// Gives oneDNN's OpenMP threads the cap the BLAS threads have, on the
/// calling thread (the OpenMP setting is per thread), and returns it:
/// dpc::setCpuThreads caps OpenBLAS when several ranks share a host, and
/// replica stages run BLAS on one thread per replica. oneDNN's kernels
/// split their work for the thread count they were created with, so the
/// callers key their cached primitives by it.
int applyDnnlThreads();

/// out = gelu(x) (backward: out = dy * gelu'(x), from x). Both return
/// false after recording an error.
bool dnnlGelu(dpcrt_context *ctx, const char *kernel, bool tanhForm,
              bool backward, float *out, const float *x, const float *dy,
              int64_t n);

/// One of oneDNN's eltwise algorithms with its alpha and beta.
struct DnnlEltwiseForm {
  int algorithm; // dnnl_alg_kind_t
  float alpha = 0.0f, beta = 0.0f;
  /// Whether the backward differentiates from the forward's output (the
  /// *_use_dst_for_bwd algorithms) rather than from its input.
  bool fromOutput = false;
};

/// Forward: out = f(in). Backward: out = dy * f'(saved), `saved` the
/// forward's input (or output, form.fromOutput).
bool dnnlEltwise(dpcrt_context *ctx, const char *kernel, DnnlEltwiseForm form,
                 bool backward, float *out, const float *saved, const float *dy,
                 int64_t n);

/// Forward: out = (log-)softmax(in) over the middle dimension of
/// [outer, size, inner]. Backward: out = dx from dy and the forward output
/// y.
bool dnnlSoftmax(dpcrt_context *ctx, const char *kernel, bool log,
                 bool backward, float *out, const float *in, const float *y,
                 int64_t outer, int64_t size, int64_t inner);

} // namespace dpc

#endif // DPC_RUNTIME_DNNL_ELTWISE_H
