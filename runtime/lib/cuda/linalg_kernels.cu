//===- linalg_kernels.cu - CUDA kernels of linear and matmul --------------===//
//
// GEMMs on cuBLAS (row-major through column-major cuBLAS by swapping the
// operands), batched GEMMs (one strided-batched call where the batch
// strides are uniform, else one GEMM per batch element in the CPU's order)
// and the bias broadcast that starts addmm; the float64 GEMM on
// cublasDgemm.
//
//
//===----------------------------------------------------------------------===//

#include "cuda_backend.h"
#include "device_utils.cuh"

#include <climits>
#include <string>
#include <type_traits>
#include <vector>

namespace dpc::cuda {
namespace {

template <typename T>
__global__ void broadcastRowsKernel(T *out, const T *bias, int64_t total,
                                    int64_t cols) {
  DPC_GRID_STRIDE(i, total) out[i] = bias[i % cols];
}

bool checkGemmSizes(dpcrt_context *ctx, const char *kernel, int64_t m,
                    int64_t n, int64_t k) {
  if (m >= 0 && n >= 0 && k >= 0 && m <= INT_MAX && n <= INT_MAX &&
      k <= INT_MAX)
    return true;
  recordError(ctx, std::string(kernel) + ": sizes m=" + std::to_string(m) +
                       " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                       " are out of cuBLAS's int range");
  return false;
}

/// Row-major C = op(A) op(B) + beta C through column-major cuBLAS: the
/// row-major C is the column-major C^T = op(B)^T op(A)^T, so the operands
/// swap and the leading dimensions stay the row-major ones. cublasSgemm for
/// float, cublasDgemm for double.
template <typename T>
void rowMajorGemm(dpcrt_context *ctx, const char *kernel, T *c, const T *a,
                  const T *b, int64_t m, int64_t n, int64_t k, bool transA,
                  bool transB, T beta) {
  int lda = static_cast<int>(std::max<int64_t>(1, transA ? m : k));
  int ldb = static_cast<int>(std::max<int64_t>(1, transB ? k : n));
  cublasOperation_t opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  int rows = static_cast<int>(m), cols = static_cast<int>(n);
  int depth = static_cast<int>(k);
  T one = T(1);
  cublasStatus_t status;
  if constexpr (std::is_same_v<T, float>)
    status = cublasSgemm(state(ctx).cublas, opB, opA, cols, rows, depth, &one,
                         b, ldb, a, lda, &beta, c, cols);
  else
    status = cublasDgemm(state(ctx).cublas, opB, opA, cols, rows, depth, &one,
                         b, ldb, a, lda, &beta, c, cols);
  failed(ctx, status, kernel);
}

/// Whether batch strides (in matrices) over `shape` are one uniform stride
/// of the flattened batch; sets it.
bool uniformStride(int32_t rank, const int64_t *shape, const int64_t *stride,
                   int64_t &flat) {
  flat = 0;
  bool found = false;
  int64_t inner = 1; // batch elements inside dimension d
  for (int32_t d = rank - 1; d >= 0; --d) {
    if (shape[d] != 1) {
      if (!found) {
        flat = stride[d];
        found = true;
      }
      if (stride[d] != flat * inner)
        return false;
    }
    inner *= shape[d];
  }
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void gemm_f32(dpcrt_context *ctx, float *c, const float *a, const float *b,
              int64_t m, int64_t n, int64_t k, int32_t trans_a, int32_t trans_b,
              float beta) {
  if (!checkGemmSizes(ctx, "gemm", m, n, k) || m == 0 || n == 0)
    return;
  rowMajorGemm(ctx, "gemm", c, a, b, m, n, k, trans_a, trans_b, beta);
}

void gemm_f64(dpcrt_context *ctx, double *c, const double *a, const double *b,
              int64_t m, int64_t n, int64_t k, int32_t trans_a, int32_t trans_b,
              double beta) {
  if (!checkGemmSizes(ctx, "gemm", m, n, k) || m == 0 || n == 0)
    return;
  rowMajorGemm(ctx, "gemm", c, a, b, m, n, k, trans_a, trans_b, beta);
}

// bfloat16 operands, float32 result and accumulation (tensor cores where the
// GPU has them; cuBLAS's default math keeps the float32 sums).
void gemm_bf16(dpcrt_context *ctx, float *c, const uint16_t *a,
               const uint16_t *b, int64_t m, int64_t n, int64_t k,
               int32_t trans_a, int32_t trans_b, float beta) {
  if (!checkGemmSizes(ctx, "gemm_bf16", m, n, k) || m == 0 || n == 0)
    return;
  int lda = static_cast<int>(std::max<int64_t>(1, trans_a ? m : k));
  int ldb = static_cast<int>(std::max<int64_t>(1, trans_b ? k : n));
  float one = 1.0f;
  failed(ctx,
         cublasGemmEx(state(ctx).cublas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                      trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                      static_cast<int>(m), static_cast<int>(k), &one, b,
                      CUDA_R_16BF, ldb, a, CUDA_R_16BF, lda, &beta, c,
                      CUDA_R_32F, static_cast<int>(n), CUBLAS_COMPUTE_32F,
                      CUBLAS_GEMM_DEFAULT),
         "gemm_bf16");
}

void broadcast_rows_f32(dpcrt_context *ctx, float *out, const float *bias,
                        int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    return;
  launch(ctx, "broadcast_rows", rows * cols, broadcastRowsKernel<float>, out,
         bias, rows * cols, cols);
}

void broadcast_rows_f64(dpcrt_context *ctx, double *out, const double *bias,
                        int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    return;
  launch(ctx, "broadcast_rows", rows * cols, broadcastRowsKernel<double>, out,
         bias, rows * cols, cols);
}

namespace {

/// batched_gemm_f32 and _f64: one strided-batched cuBLAS call where the
/// batch strides are uniform, else one GEMM per batch element.
template <typename T>
void batchedGemm(dpcrt_context *ctx, T *c, const T *a, const T *b,
                 int32_t batch_rank, const int64_t *dims, int64_t m, int64_t n,
                 int64_t k, int32_t trans_a, int32_t trans_b) {
  if (batch_rank < 0) {
    recordError(ctx, "batched_gemm: negative batch rank");
    return;
  }
  if (!checkGemmSizes(ctx, "batched_gemm", m, n, k) || m == 0 || n == 0)
    return;
  int64_t batch = 1;
  for (int32_t d = 0; d < batch_rank; ++d)
    batch *= std::max<int64_t>(dims[d], 0);
  if (batch == 0)
    return;
  int64_t sizeA = m * k, sizeB = k * n, sizeC = m * n;
  const int64_t *strideA = dims + batch_rank, *strideB = dims + 2 * batch_rank;
  int64_t flatA, flatB;
  if (batch <= INT_MAX && uniformStride(batch_rank, dims, strideA, flatA) &&
      uniformStride(batch_rank, dims, strideB, flatB)) {
    // One call; a stride of 0 broadcasts an operand over the batch.
    int lda = static_cast<int>(std::max<int64_t>(1, trans_a ? m : k));
    int ldb = static_cast<int>(std::max<int64_t>(1, trans_b ? k : n));
    T one = T(1), zero = T(0);
    auto gemm = [&](auto stridedBatched) {
      return stridedBatched(
          state(ctx).cublas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
          trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
          static_cast<int>(m), static_cast<int>(k), &one, b, ldb, flatB * sizeB,
          a, lda, flatA * sizeA, &zero, c, static_cast<int>(n), sizeC,
          static_cast<int>(batch));
    };
    if constexpr (std::is_same_v<T, float>)
      failed(ctx, gemm(cublasSgemmStridedBatched), "batched_gemm");
    else
      failed(ctx, gemm(cublasDgemmStridedBatched), "batched_gemm");
    return;
  }
  // Irregular strides: one GEMM per batch element, in row-major order.
  std::vector<int64_t> index(batch_rank, 0);
  for (int64_t e = 0; e < batch && ctx->error.empty(); ++e) {
    int64_t offA = 0, offB = 0;
    for (int32_t d = 0; d < batch_rank; ++d) {
      offA += index[d] * strideA[d];
      offB += index[d] * strideB[d];
    }
    rowMajorGemm(ctx, "batched_gemm", c + e * sizeC, a + offA * sizeA,
                 b + offB * sizeB, m, n, k, trans_a, trans_b, T(0));
    for (int32_t d = batch_rank - 1; d >= 0; --d) {
      if (++index[d] < dims[d])
        break;
      index[d] = 0;
    }
  }
}

} // namespace

void batched_gemm_f32(dpcrt_context *ctx, float *c, const float *a,
                      const float *b, int32_t batch_rank, const int64_t *dims,
                      int64_t m, int64_t n, int64_t k, int32_t trans_a,
                      int32_t trans_b) {
  batchedGemm(ctx, c, a, b, batch_rank, dims, m, n, k, trans_a, trans_b);
}

void batched_gemm_f64(dpcrt_context *ctx, double *c, const double *a,
                      const double *b, int32_t batch_rank, const int64_t *dims,
                      int64_t m, int64_t n, int64_t k, int32_t trans_a,
                      int32_t trans_b) {
  batchedGemm(ctx, c, a, b, batch_rank, dims, m, n, k, trans_a, trans_b);
}

} // namespace dpc::cuda
