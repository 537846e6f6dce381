//===- linalg_kernels.cpp - CPU kernels of linear and matmul --------------===//
//
// GEMMs on OpenBLAS (linear's addmm and its gradients, matmul's batched
// GEMMs) and the bias broadcast that starts addmm. bfloat16 GEMMs
// (--precision bf16) run on oneDNN's matmul where the CPU multiplies
// bfloat16 natively (AVX512-BF16, AMX), as PyTorch's CPU autocast does
// through mkldnn; elsewhere oneDNN would emulate them slower than float32
// runs, so the operands are widened (exactly) and OpenBLAS multiplies them.
// float64 GEMMs (gemm_f64) are OpenBLAS's dgemm.
//
//===----------------------------------------------------------------------===//

#include "core/context.h"
#include "cpu/cpu_backend.h"
#include "cpu/dnnl_eltwise.h"
#include "cpu/native_bfloat16.h"
#include "cpu/strided_loops.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

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
/// checkGemmSizes accepted and m, n > 0: sgemm for float, dgemm for double
/// (as PyTorch's float64 addmm and mm).
template <typename T>
void rowMajorGemm(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k,
                  bool transA, bool transB, T beta) {
  // BLAS rejects leading dimensions below 1 even for empty operands.
  int lda = static_cast<int>(std::max<int64_t>(1, transA ? m : k));
  int ldb = static_cast<int>(std::max<int64_t>(1, transB ? k : n));
  CBLAS_TRANSPOSE opA = transA ? CblasTrans : CblasNoTrans;
  CBLAS_TRANSPOSE opB = transB ? CblasTrans : CblasNoTrans;
  int rows = static_cast<int>(m), cols = static_cast<int>(n);
  int depth = static_cast<int>(k);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, opA, opB, rows, cols, depth, 1.0f, a, lda, b,
                ldb, beta, c, cols);
  else
    cblas_dgemm(CblasRowMajor, opA, opB, rows, cols, depth, 1.0, a, lda, b, ldb,
                beta, c, cols);
}

/// Row-major bfloat16 GEMMs on oneDNN's matmul primitive, cached per
/// geometry and thread like the convolutions (conv_pool_kernels.cpp).
class BFloat16Gemms {
public:
  static BFloat16Gemms &get() {
    thread_local BFloat16Gemms state;
    return state;
  }

  void run(float *c, const uint16_t *a, const uint16_t *b, int64_t m, int64_t n,
           int64_t k, bool transA, bool transB, float beta) {
    int threads = dpc::applyDnnlThreads();
    Key key{m, n, k, transA, transB, beta != 0.0f, threads};
    std::unique_ptr<Plan> &slot = plans[key];
    if (!slot)
      slot = plan(m, n, k, transA, transB, beta);
    Plan &p = *slot;
    p.a.set_data_handle(const_cast<uint16_t *>(a));
    p.b.set_data_handle(const_cast<uint16_t *>(b));
    p.c.set_data_handle(c);
    p.matmul.execute(stream, p.args);
    stream.wait();
  }

private:
  using Key = std::array<int64_t, 7>;
  struct Plan {
    dnnl::primitive matmul;
    dnnl::memory a, b, c, scratchpad;
    std::unordered_map<int, dnnl::memory> args;
    std::unique_ptr<char, decltype(&std::free)> scratch{nullptr, &std::free};
  };

  BFloat16Gemms() : engine(dnnl::engine::kind::cpu, 0), stream(engine) {}

  std::unique_ptr<Plan> plan(int64_t m, int64_t n, int64_t k, bool transA,
                             bool transB, float beta) {
    using dt = dnnl::memory::data_type;
    using dims = dnnl::memory::dims;
    // Transposes are strides: A^T stored [k,m] is A [m,k] with strides
    // {1, m}.
    dnnl::memory::desc aDesc({m, k}, dt::bf16,
                             transA ? dims{1, m} : dims{k, 1});
    dnnl::memory::desc bDesc({k, n}, dt::bf16,
                             transB ? dims{1, k} : dims{n, 1});
    dnnl::memory::desc cDesc({m, n}, dt::f32, dims{n, 1});
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (beta != 0.0f) {
      dnnl::post_ops ops;
      ops.append_sum(beta); // C = A @ B + beta * C
      attr.set_post_ops(ops);
    }
    dnnl::matmul::primitive_desc pd({aDesc, bDesc, cDesc}, attr, engine);
    auto p = std::make_unique<Plan>();
    p->matmul = dnnl::matmul(pd);
    p->a = dnnl::memory(aDesc, engine, DNNL_MEMORY_NONE);
    p->b = dnnl::memory(bDesc, engine, DNNL_MEMORY_NONE);
    p->c = dnnl::memory(cDesc, engine, DNNL_MEMORY_NONE);
    p->args = {
        {DNNL_ARG_SRC, p->a}, {DNNL_ARG_WEIGHTS, p->b}, {DNNL_ARG_DST, p->c}};
    size_t scratchBytes = pd.scratchpad_desc().get_size();
    if (scratchBytes != 0) {
      p->scratch.reset(static_cast<char *>(
          std::aligned_alloc(64, (scratchBytes + 63) / 64 * 64)));
      p->scratchpad =
          dnnl::memory(pd.scratchpad_desc(), engine, p->scratch.get());
      p->args[DNNL_ARG_SCRATCHPAD] = p->scratchpad;
    }
    return p;
  }

  dnnl::engine engine;
  dnnl::stream stream;
  std::map<Key, std::unique_ptr<Plan>> plans;
};

} // namespace

namespace dpc::cpu {

void gemm_bf16(dpcrt_context *ctx, float *c, const uint16_t *a,
               const uint16_t *b, int64_t m, int64_t n, int64_t k,
               int32_t transA, int32_t transB, float beta) {
  if (!checkGemmSizes(ctx, "gemm_bf16", m, n, k) || m == 0 || n == 0)
    return;
  if (k == 0) { // oneDNN rejects empty reductions: C = beta * C
    for (int64_t i = 0; i < m * n; ++i)
      c[i] = beta == 0.0f ? 0.0f : beta * c[i];
    return;
  }
  if (hasNativeBFloat16()) {
    try {
      BFloat16Gemms::get().run(c, a, b, m, n, k, transA, transB, beta);
    } catch (const dnnl::error &e) {
      recordError(ctx, std::string("gemm_bf16: oneDNN: ") + e.what());
    }
    return;
  }
  rowMajorGemm(c, widenBFloat16(ctx, 0, a, m * k),
               widenBFloat16(ctx, 1, b, k * n), m, n, k, transA, transB, beta);
}

void gemm_f32(dpcrt_context *ctx, float *c, const float *a, const float *b,
              int64_t m, int64_t n, int64_t k, int32_t transA, int32_t transB,
              float beta) {
  if (!checkGemmSizes(ctx, "gemm", m, n, k) || m == 0 || n == 0)
    return;
  rowMajorGemm(c, a, b, m, n, k, transA, transB, beta);
}

void gemm_f64(dpcrt_context *ctx, double *c, const double *a, const double *b,
              int64_t m, int64_t n, int64_t k, int32_t transA, int32_t transB,
              double beta) {
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

void broadcast_rows_f64(dpcrt_context *, double *out, const double *bias,
                        int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i)
    std::memcpy(out + i * cols, bias,
                static_cast<size_t>(cols) * sizeof(double));
}

namespace {

/// batched_gemm_f32 and _f64: one GEMM per batch element, in row-major
/// batch order.
template <typename T>
void batchedGemm(dpcrt_context *ctx, T *c, const T *a, const T *b,
                 int32_t batchRank, const int64_t *dims, int64_t m, int64_t n,
                 int64_t k, int32_t transA, int32_t transB) {
  if (batchRank < 0) {
    recordError(ctx, "batched_gemm: negative batch rank");
    return;
  }
  if (!checkGemmSizes(ctx, "batched_gemm", m, n, k) || m == 0 || n == 0)
    return;
  int64_t sizeA = m * k, sizeB = k * n, sizeC = m * n;
  T *out = c;
  auto gemm = [&](int64_t offA, int64_t offB) {
    rowMajorGemm(out, a + offA * sizeA, b + offB * sizeB, m, n, k, transA,
                 transB, T(0));
    out += sizeC;
  };
  if (batchRank == 0) {
    gemm(0, 0);
    return;
  }
  forEachIndex(batchRank, dims, dims + batchRank, dims + 2 * batchRank, gemm);
}

} // namespace

void batched_gemm_f32(dpcrt_context *ctx, float *c, const float *a,
                      const float *b, int32_t batchRank, const int64_t *dims,
                      int64_t m, int64_t n, int64_t k, int32_t transA,
                      int32_t transB) {
  batchedGemm(ctx, c, a, b, batchRank, dims, m, n, k, transA, transB);
}

void batched_gemm_f64(dpcrt_context *ctx, double *c, const double *a,
                      const double *b, int32_t batchRank, const int64_t *dims,
                      int64_t m, int64_t n, int64_t k, int32_t transA,
                      int32_t transB) {
  batchedGemm(ctx, c, a, b, batchRank, dims, m, n, k, transA, transB);
}

} // namespace dpc::cpu
