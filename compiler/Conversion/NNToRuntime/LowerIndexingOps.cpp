//===- LowerIndexingOps.cpp - the Indexing family as runtime calls --------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// embedding and its backward (scatter-add into the weight's gradient),
// gather and scatter_add (each other's gradients) on [outer, dim, inner]
// views.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

namespace {

/// The sizes of `shape` before and after dimension `dim`, multiplied: a
/// row-major tensor as [outer, shape[dim], inner].
std::pair<int64_t, int64_t> outerAndInner(ArrayRef<int64_t> shape,
                                          int64_t dim) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d)
    outer *= shape[d];
  for (int64_t d = dim + 1, e = shape.size(); d < e; ++d)
    inner *= shape[d];
  return {outer, inner};
}

} // namespace

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
  lowerings.add<nn::GatherOp>([](RuntimeCallBuilder &rt, nn::GatherOp o) {
    int64_t dim = o.getDim();
    ArrayRef<int64_t> input = getShape(o.getInput());
    auto [outer, inner] = outerAndInner(input, dim);
    rt.call("dpcrt_gather_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.ptr(o.getIndex()),
             rt.i64(outer), rt.i64(input[dim]),
             rt.i64(getShape(o.getIndex())[dim]), rt.i64(inner)});
    return success();
  });
  lowerings.add<nn::ScatterAddOp>([](RuntimeCallBuilder &rt,
                                     nn::ScatterAddOp o) {
    int64_t dim = o.getDim();
    ArrayRef<int64_t> input = getShape(o.getInput());
    auto [outer, inner] = outerAndInner(input, dim);
    rt.call("dpcrt_scatter_add_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.ptr(o.getIndex()),
             rt.ptr(o.getSrc()), rt.i64(outer), rt.i64(input[dim]),
             rt.i64(getShape(o.getIndex())[dim]), rt.i64(inner)});
    return success();
  });
}
