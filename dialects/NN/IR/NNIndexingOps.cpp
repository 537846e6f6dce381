//===- NNIndexingOps.cpp - Indexing ops: types, verifiers, VJPs -----------===//
//
// The methods of the ops in NNIndexingOps.td (the op classes are generated into
// NNOps.cpp.inc, included by NNDialect.cpp). Result types are inferred from
// operands so that the importer reports a mismatch at the model's source
// line; each differentiable op builds its VJP out of nn ops.
//
//===----------------------------------------------------------------------===//

#include "dialects/NN/IR/NNOps.h"
#include "dialects/NN/IR/NNShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace dpc::nn;

//===----------------------------------------------------------------------===//
// embedding
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> w = shapeOf(adaptor.getWeight());
  if (w.size() != 2)
    return emitOptionalError(loc, "embedding: expected a weight [V, D], got ",
                             shapeString(w));
  if (IntegerAttr pad = adaptor.getPaddingIdxAttr()) {
    int64_t p = pad.getValue().getSExtValue();
    if (p < 0 || p >= w[0])
      return emitOptionalError(loc, "embedding: padding_idx ", p,
                               " is out of range [0, ", w[0], ")");
  }
  SmallVector<int64_t> shape(shapeOf(adaptor.getIndices()));
  shape.push_back(w[1]);
  types.push_back(f32Tensor(ctx, shape));
  return success();
}

SmallVector<Value> EmbeddingOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Value dw =
      b.create<EmbeddingGradOp>(getLoc(), getWeight().getType(), resultGrads[0],
                                getIndices(), getPaddingIdxAttr());
  return {dw, Value()};
}

LogicalResult EmbeddingGradOp::verify() {
  ArrayRef<int64_t> w = shapeOf(getResult());
  if (w.size() != 2)
    return emitOpError("expected a result [V, D], got ") << shapeString(w);
  SmallVector<int64_t> expected(shapeOf(getIndices()));
  expected.push_back(w[1]);
  if (shapeOf(getGrad()) != ArrayRef<int64_t>(expected))
    return emitOpError("gradient shape ")
           << shapeString(shapeOf(getGrad())) << " does not match indices "
           << shapeString(shapeOf(getIndices())) << " and rows of " << w[1];
  if (IntegerAttr pad = getPaddingIdxAttr()) {
    int64_t p = pad.getValue().getSExtValue();
    if (p < 0 || p >= w[0])
      return emitOpError("padding_idx ")
             << p << " is out of range [0, " << w[0] << ")";
  }
  return success();
}
