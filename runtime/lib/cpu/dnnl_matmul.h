//===- dnnl_matmul.h - Batched matrix products on oneDNN --------*- C++ -*-===//
//
// matmul's batched GEMMs (attention's q @ k^T and att @ v, and their
// gradients) as one oneDNN matmul primitive over all batch dimensions
// instead of one BLAS call per batch element: at attention's sizes (head
// dimension 16-64) each call is too small to amortize BLAS's per-call
// overhead and threading, and the calls ran one after the other.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_DNNL_MATMUL_H
#define DPC_RUNTIME_DNNL_MATMUL_H

#include "dpc/abi.h"

#include <cstdint>

namespace dpc {

/// The most batch dimensions dnnlBatchedGemm takes (oneDNN's 12 dimensions,
/// less the two of the matrices).
constexpr int32_t kDnnlMaxBatchRank = 10;

/// C[i] = op(A[i]) @ op(B[i]) over a batch of shape dims[0..batchRank) with
/// A's and B's batch strides (in matrices, 0 where broadcast) at
/// dims[batchRank..) and dims[2*batchRank..), as dpcrt_batched_gemm_f32;
/// 1 <= batchRank <= kDnnlMaxBatchRank, m, n, k > 0. Returns false after
/// recording an error under `kernel`.
bool dnnlBatchedGemm(dpcrt_context *ctx, const char *kernel, float *c,
                     const float *a, const float *b, int32_t batchRank,
                     const int64_t *dims, int64_t m, int64_t n, int64_t k,
                     bool transA, bool transB);

} // namespace dpc

#endif // DPC_RUNTIME_DNNL_MATMUL_H
