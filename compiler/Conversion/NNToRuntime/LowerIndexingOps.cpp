//===- LowerIndexingOps.cpp - the Indexing family as runtime calls --------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// embedding and its backward (scatter-add into the weight's gradient).
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

void dpc::populateIndexingLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<nn::EmbeddingOp>([](RuntimeCallBuilder &rt, nn::EmbeddingOp o) {
    ArrayRef<int64_t> w = getShape(o.getWeight());
    rt.call("dpcrt_embedding_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getWeight()),
             rt.ptr(o.getIndices()), rt.i64(getNumElements(o.getIndices())),
             rt.i64(w[0]), rt.i64(w[1])});
    return success();
  });
  lowerings.add<nn::EmbeddingGradOp>([](RuntimeCallBuilder &rt,
                                        nn::EmbeddingGradOp o) {
    ArrayRef<int64_t> w = getShape(o.getResult());
    rt.call("dpcrt_embedding_grad_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getGrad()), rt.ptr(o.getIndices()),
             rt.i64(getNumElements(o.getIndices())), rt.i64(w[0]), rt.i64(w[1]),
             rt.i64(o.getPaddingIdx().value_or(-1))});
    return success();
  });
}
