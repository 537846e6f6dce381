//===- NNLossOps.cpp - Losses: types, VJPs --------------------------------===//
//
// The methods of the ops in NNLossOps.td (the op classes are generated into
// NNOps.cpp.inc, included by NNDialect.cpp). Result types are inferred from
// operands so that the importer reports a mismatch at the model's source
// line; each differentiable op builds its VJP out of nn ops.
//
//===----------------------------------------------------------------------===//

#include "dialects/NN/IR/NNOps.h"
#include "dialects/NN/IR/NNShapeUtils.h"
#include "dialects/NN/IR/NNVJPBuilders.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace dpc::nn;

static LogicalResult checkCrossEntropyOperands(std::optional<Location> loc,
                                               Value logits, Value labels) {
  ArrayRef<int64_t> x = shapeOf(logits), y = shapeOf(labels);
  if (x.size() != 2)
    return emitOptionalError(loc, "cross_entropy: expected logits [N, C], got ",
                             shapeString(x));
  if (y.size() != 1 || y[0] != x[0])
    return emitOptionalError(loc, "cross_entropy: labels ", shapeString(y),
                             " do not match logits ", shapeString(x),
                             " (expected [", x[0], "])");
  return success();
}

static LogicalResult checkNLLLoss(std::optional<Location> loc,
                                  ArrayRef<int64_t> x, ArrayRef<int64_t> y) {
  if (x.size() != 2)
    return emitOptionalError(loc, "nll_loss: expected input [N, C], got ",
                             shapeString(x));
  if (y.size() != 1 || y[0] != x[0])
    return emitOptionalError(loc, "nll_loss: labels ", shapeString(y),
                             " do not match input ", shapeString(x),
                             " (expected [", x[0], "])");
  return success();
}

//===----------------------------------------------------------------------===//
// cross_entropy
//===----------------------------------------------------------------------===//

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *ctx,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  if (failed(checkCrossEntropyOperands(loc, adaptor.getLogits(),
                                       adaptor.getLabels())))
    return failure();
  types.push_back(computeTensor(adaptor.getLogits(), {}));
  return success();
}

SmallVector<Value> CrossEntropyOp::buildVJP(OpBuilder &b,
                                            ValueRange resultGrads) {
  Value dlogits = b.create<CrossEntropyGradOp>(getLoc(), resultGrads[0],
                                               getLogits(), getLabels());
  return {dlogits, Value()};
}

LogicalResult
CrossEntropyGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &types) {
  if (failed(checkCrossEntropyOperands(loc, adaptor.getLogits(),
                                       adaptor.getLabels())))
    return failure();
  types.push_back(adaptor.getLogits().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// mse_loss
//===----------------------------------------------------------------------===//

LogicalResult MSELossOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  if (adaptor.getInput().getType() != adaptor.getTarget().getType())
    return emitOptionalError(
        loc, "mse_loss: input ", shapeString(shapeOf(adaptor.getInput())),
        " and target ", shapeString(shapeOf(adaptor.getTarget())),
        " must have the same shape");
  types.push_back(computeTensor(adaptor.getInput(), {}));
  return success();
}

SmallVector<Value> MSELossOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dinput =
      b.create<MSELossGradOp>(loc, resultGrads[0], getInput(), getTarget());
  return {dinput, scaled(b, loc, dinput, -1.0f)};
}

LogicalResult MSELossGradOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferElementwiseGrad(loc, "mse_loss_grad", adaptor.getInput(),
                              adaptor.getTarget(), types);
}

//===----------------------------------------------------------------------===//
// nll_loss
//===----------------------------------------------------------------------===//

LogicalResult NLLLossOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  if (failed(checkNLLLoss(loc, shapeOf(adaptor.getInput()),
                          shapeOf(adaptor.getLabels()))))
    return failure();
  types.push_back(computeTensor(adaptor.getInput(), {}));
  return success();
}

SmallVector<Value> NLLLossOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Value dx = b.create<NLLLossGradOp>(getLoc(), getInput().getType(),
                                     resultGrads[0], getLabels());
  return {dx, Value()};
}

LogicalResult NLLLossGradOp::verify() {
  return checkNLLLoss(getLoc(), shapeOf(getResult()), shapeOf(getLabels()));
}
