//===- LowerLinalgOps.cpp - the Linalg family as runtime calls ------------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// linear and matmul as GEMM calls.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

namespace {

/// The GEMM of a product of float32, float64 or bfloat16 operands (both the
/// same, checked by the ops).
std::string gemmKernel(Value operand) {
  return isBFloat16(operand) ? "dpcrt_gemm_bf16"
                             : floatKernel("dpcrt_gemm", operand);
}

} // namespace

void dpc::populateLinalgLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<nn::LinearOp>([](RuntimeCallBuilder &rt, nn::LinearOp o) {
    // Leading dimensions of the input are the GEMM's rows.
    ArrayRef<int64_t> w = getShape(o.getWeight());
    int64_t rows = getNumElements(o.getInput()) / w[1];
    Value out = rt.ptr(o.getResult());
    if (o.getBias())
      rt.call(floatKernel("dpcrt_broadcast_rows", o.getResult()),
              {out, rt.ptr(o.getBias()), rt.i64(rows), rt.i64(w[0])});
    rt.call(gemmKernel(o.getInput()),
            {out, rt.ptr(o.getInput()), rt.ptr(o.getWeight()), rt.i64(rows),
             rt.i64(w[0]), rt.i64(w[1]), rt.i32(0), rt.i32(1),
             rt.floatArg(o.getResult(), o.getBias() ? 1.0 : 0.0)});
    return success();
  });
  lowerings.add<nn::MatmulOp>([](RuntimeCallBuilder &rt, nn::MatmulOp o) {
    ArrayRef<int64_t> a = getShape(o.getLhs()), b = getShape(o.getRhs()),
                      c = getShape(o.getResult());
    bool ta = o.getTransposeLhs();
    size_t rank = c.size();
    int64_t m = c[rank - 2], n = c[rank - 1];
    int64_t k = ta ? a[a.size() - 2] : a[a.size() - 1];
    int64_t batch = getNumElements(o.getResult()) / std::max<int64_t>(m * n, 1);
    if (o.isSingleGemm()) {
      rt.call(gemmKernel(o.getLhs()),
              {rt.ptr(o.getResult()), rt.ptr(o.getLhs()), rt.ptr(o.getRhs()),
               rt.i64(batch * m), rt.i64(n), rt.i64(k), rt.i32(ta),
               rt.i32(o.getTransposeRhs()), rt.floatArg(o.getResult(), 0.0)});
      return success();
    }
    // One GEMM per batch element; strides in matrices, 0 along
    // broadcast batch dimensions.
    if (isBFloat16(o.getLhs())) {
      o.emitOpError("with bf16 operands must be a single GEMM (no batch "
                    "dimensions on the rhs)");
      return failure();
    }
    ArrayRef<int64_t> batchShape = c.drop_back(2);
    SmallVector<int64_t> dims(batchShape);
    llvm::append_range(dims, getBroadcastStrides(a.drop_back(2), batchShape));
    llvm::append_range(dims, getBroadcastStrides(b.drop_back(2), batchShape));
    rt.call(floatKernel("dpcrt_batched_gemm", o.getLhs()),
            {rt.ptr(o.getResult()), rt.ptr(o.getLhs()), rt.ptr(o.getRhs()),
             rt.i32(batchShape.size()), rt.constantArray(dims), rt.i64(m),
             rt.i64(n), rt.i64(k), rt.i32(ta), rt.i32(o.getTransposeRhs())});
    return success();
  });
}
