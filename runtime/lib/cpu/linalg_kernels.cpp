//===- linalg_kernels.cpp - CPU kernels of linear and matmul --------------===//
//
// GEMMs on OpenBLAS (linear's addmm and its gradients, matmul's batched
// GEMMs) and the bias broadcast that starts addmm.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/strided_loops.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

using dpc::recordError;

void dpc::cpu::setThreads(int threads) { openblas_set_num_threads(threads); }

namespace {

/// Whether BLAS's int arguments can hold the sizes; records the error of
/// `kernel` if not.
bool checkGemmSizes(dpcrt_context *ctx, const char *kernel, int64_t m,
                    int64_t n, int64_t k) {
  if (m >= 0 && n >= 0 && k >= 0 && m <= INT_MAX && n <= INT_MAX &&
      k <= INT_MAX)
    return true;
  recordError(ctx, std::string(kernel) + ": sizes m=" + std::to_string(m) +
                       " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                       " are out of BLAS's int range");
  return false;
}

/// Row-major C[m,n] = op(A) @ op(B) + beta * C on OpenBLAS, for sizes
/// checkGemmSizes accepted and m, n > 0.
void rowMajorGemm(float *c, const float *a, const float *b, int64_t m,
                  int64_t n, int64_t k, bool transA, bool transB, float beta) {
  // BLAS rejects leading dimensions below 1 even for empty operands.
  int lda = static_cast<int>(std::max<int64_t>(1, transA ? m : k));
  int ldb = static_cast<int>(std::max<int64_t>(1, transB ? k : n));
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
              transB ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, lda, b, ldb,
              beta, c, static_cast<int>(n));
}

} // namespace

namespace dpc::cpu {

void gemm_f32(dpcrt_context *ctx, float *c, const float *a, const float *b,
              int64_t m, int64_t n, int64_t k, int32_t transA, int32_t transB,
              float beta) {
  if (!checkGemmSizes(ctx, "gemm", m, n, k) || m == 0 || n == 0)
    return;
  rowMajorGemm(c, a, b, m, n, k, transA, transB, beta);
}

void broadcast_rows_f32(dpcrt_context *, float *out, const float *bias,
                        int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i)
    std::memcpy(out + i * cols, bias,
                static_cast<size_t>(cols) * sizeof(float));
}

void batched_gemm_f32(dpcrt_context *ctx, float *c, const float *a,
                      const float *b, int32_t batchRank, const int64_t *dims,
                      int64_t m, int64_t n, int64_t k, int32_t transA,
                      int32_t transB) {
  if (batchRank < 0) {
    recordError(ctx, "batched_gemm: negative batch rank");
    return;
  }
  if (!checkGemmSizes(ctx, "batched_gemm", m, n, k) || m == 0 || n == 0)
    return;
  int64_t sizeA = m * k, sizeB = k * n, sizeC = m * n;
  float *out = c;
  auto gemm = [&](int64_t offA, int64_t offB) {
    rowMajorGemm(out, a + offA * sizeA, b + offB * sizeB, m, n, k, transA,
                 transB, 0.0f);
    out += sizeC;
  };
  if (batchRank == 0) {
    gemm(0, 0);
    return;
  }
  forEachIndex(batchRank, dims, dims + batchRank, dims + 2 * batchRank, gemm);
}

} // namespace dpc::cpu
