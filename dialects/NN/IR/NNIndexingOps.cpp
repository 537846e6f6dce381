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

//===----------------------------------------------------------------------===//
// gather and scatter_add
//===----------------------------------------------------------------------===//

/// Checks what gather and scatter_add share: `dim` is a dimension of
/// `input`, and `index` has `input`'s rank and sizes but along `dim`.
static LogicalResult verifyIndexAlong(std::optional<Location> loc, StringRef op,
                                      ArrayRef<int64_t> input,
                                      ArrayRef<int64_t> index, int64_t dim) {
  int64_t rank = input.size();
  if (dim < 0 || dim >= rank)
    return emitOptionalError(loc, op, ": dim ", dim, " is out of range for a ",
                             rank, "-d input");
  if (static_cast<int64_t>(index.size()) != rank)
    return emitOptionalError(loc, op, ": a ", index.size(), "-d index for a ",
                             rank, "-d input");
  for (int64_t d = 0; d < rank; ++d)
    if (d != dim && index[d] != input[d])
      return emitOptionalError(loc, op, ": index ", shapeString(index),
                               " and input ", shapeString(input),
                               " differ in dimension ", d, " (not ", dim, ")");
  return success();
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> index = shapeOf(adaptor.getIndex());
  if (failed(verifyIndexAlong(loc, "gather", shapeOf(adaptor.getInput()), index,
                              adaptor.getDim())))
    return failure();
  types.push_back(f32Tensor(ctx, index));
  return success();
}

SmallVector<Value> GatherOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  // torch: zeros_like(input).scatter_add_(dim, index, grad).
  Location loc = getLoc();
  Value zeros =
      b.create<FillOp>(loc, getInput().getType(), b.getF32FloatAttr(0.0f));
  Value dx = b.create<ScatterAddOp>(loc, getInput().getType(), zeros,
                                    getIndex(), resultGrads[0], getDimAttr());
  return {dx, Value()};
}

LogicalResult ScatterAddOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> index = shapeOf(adaptor.getIndex());
  if (shapeOf(adaptor.getSrc()) != index)
    return emitOptionalError(
        loc, "scatter_add: src ", shapeString(shapeOf(adaptor.getSrc())),
        " and index ", shapeString(index), " must have one shape");
  if (failed(verifyIndexAlong(loc, "scatter_add", shapeOf(adaptor.getInput()),
                              index, adaptor.getDim())))
    return failure();
  types.push_back(adaptor.getInput().getType());
  return success();
}

SmallVector<Value> ScatterAddOp::buildVJP(OpBuilder &b,
                                          ValueRange resultGrads) {
  // torch: grad for self, grad.gather(dim, index) for src.
  Value dy = resultGrads[0];
  Value dsrc = b.create<GatherOp>(getLoc(), getSrc().getType(), dy, getIndex(),
                                  getDimAttr());
  return {dy, Value(), dsrc};
}
