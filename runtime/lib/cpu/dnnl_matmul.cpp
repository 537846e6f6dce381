//===- dnnl_matmul.cpp - Batched matrix products on oneDNN ----------------===//
//
// One oneDNN matmul primitive per batched GEMM geometry, cached per thread
// as the eltwise primitives are (dnnl_eltwise.cpp), so steady-state steps
// create nothing. A broadcast batch dimension (stride 0) is a dimension of
// size 1 in oneDNN's terms; a transposed operand is the same matrix with
// swapped strides, so no operand is copied.
//
//===----------------------------------------------------------------------===//

#include "cpu/dnnl_matmul.h"

#include "core/context.h"
#include "cpu/dnnl_eltwise.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

using dpc::recordError;

namespace {

struct MatmulPlan {
  dnnl::matmul prim;
  dnnl::memory src, weights, dst;
};

class MatmulState {
public:
  static MatmulState &get() {
    thread_local MatmulState state;
    return state;
  }

  /// The cached plan for `key`, made by `make` on first use.
  template <typename Make>
  MatmulPlan &plan(const std::vector<int64_t> &key, Make make) {
    std::unique_ptr<MatmulPlan> &slot = plans[key];
    if (!slot)
      slot = make(engine);
    return *slot;
  }
  dnnl::stream &getStream() { return stream; }

private:
  MatmulState() : engine(dnnl::engine::kind::cpu, 0), stream(engine) {}

  dnnl::engine engine;
  dnnl::stream stream;
  std::map<std::vector<int64_t>, std::unique_ptr<MatmulPlan>> plans;
};

/// The descriptor of a batch of row-major [rows, cols] matrices (stored
/// transposed when `transposed`) with batch strides `batchStrides` in
/// matrices; stride 0 becomes a broadcast dimension of size 1.
dnnl::memory::desc batchOfMatrices(const int64_t *batchShape,
                                   const int64_t *batchStrides,
                                   int32_t batchRank, int64_t rows,
                                   int64_t cols, bool transposed) {
  dnnl::memory::dims shape, strides;
  for (int32_t d = 0; d < batchRank; ++d) {
    bool broadcast = batchStrides[d] == 0;
    shape.push_back(broadcast ? 1 : batchShape[d]);
    strides.push_back(broadcast ? 0 : batchStrides[d] * rows * cols);
  }
  shape.push_back(rows);
  shape.push_back(cols);
  strides.push_back(transposed ? 1 : cols);
  strides.push_back(transposed ? rows : 1);
  return dnnl::memory::desc(shape, dnnl::memory::data_type::f32, strides);
}

} // namespace

bool dpc::dnnlBatchedGemm(dpcrt_context *ctx, const char *kernel, float *c,
                          const float *a, const float *b, int32_t batchRank,
                          const int64_t *dims, int64_t m, int64_t n, int64_t k,
                          bool transA, bool transB) {
  try {
    int threads = applyDnnlThreads();
    std::vector<int64_t> key(dims, dims + 3 * batchRank);
    key.insert(key.end(), {m, n, k, transA, transB, threads});
    MatmulPlan &p = MatmulState::get().plan(key, [&](const dnnl::engine &e) {
      const int64_t *shape = dims, *stridesA = dims + batchRank,
                    *stridesB = dims + 2 * batchRank;
      dnnl::memory::desc src =
          batchOfMatrices(shape, stridesA, batchRank, m, k, transA);
      dnnl::memory::desc weights =
          batchOfMatrices(shape, stridesB, batchRank, k, n, transB);
      // C is dense over the whole batch shape.
      dnnl::memory::dims dstShape(shape, shape + batchRank),
          dstStrides(batchRank);
      int64_t matrices = 1;
      for (int32_t d = batchRank - 1; d >= 0; --d) {
        dstStrides[d] = matrices * m * n;
        matrices *= shape[d];
      }
      dstShape.insert(dstShape.end(), {m, n});
      dstStrides.insert(dstStrides.end(), {n, 1});
      dnnl::memory::desc dst(dstShape, dnnl::memory::data_type::f32,
                             dstStrides);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights, dst), e);
      auto plan = std::make_unique<MatmulPlan>();
      plan->prim = dnnl::matmul(pd);
      plan->src = dnnl::memory(src, e, DNNL_MEMORY_NONE);
      plan->weights = dnnl::memory(weights, e, DNNL_MEMORY_NONE);
      plan->dst = dnnl::memory(dst, e, DNNL_MEMORY_NONE);
      return plan;
    });
    p.src.set_data_handle(const_cast<float *>(a));
    p.weights.set_data_handle(const_cast<float *>(b));
    p.dst.set_data_handle(c);
    dnnl::stream &stream = MatmulState::get().getStream();
    p.prim.execute(stream, {{DNNL_ARG_SRC, p.src},
                            {DNNL_ARG_WEIGHTS, p.weights},
                            {DNNL_ARG_DST, p.dst}});
    stream.wait();
    return true;
  } catch (const dnnl::error &e) {
    recordError(ctx, std::string(kernel) + ": oneDNN: " + e.what() +
                         " (status " + std::to_string(e.status) + ")");
  } catch (const std::exception &e) {
    recordError(ctx, std::string(kernel) + ": " + e.what());
  }
  return false;
}
