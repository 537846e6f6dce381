//===- NNReductionOps.cpp - Reductions: types, verifiers, VJPs ------------===//
//
// The methods of the ops in NNReductionOps.td (the op classes are generated
// into NNOps.cpp.inc, included by NNDialect.cpp). Result types are inferred
// from operands so that the importer reports a mismatch at the model's source
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

namespace {

/// The shape `shape` reduced over `dims` (sorted and distinct).
FailureOr<SmallVector<int64_t>>
reducedShape(std::optional<Location> loc, StringRef name,
             ArrayRef<int64_t> shape, ArrayRef<int64_t> dims, bool keepdim) {
  int64_t rank = shape.size();
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d < 0 || d >= rank)
      return emitOptionalError(loc, name, ": dim ", d, " is out of range for ",
                               shapeString(shape));
    if (i > 0 && dims[i - 1] >= d)
      return emitOptionalError(loc, name,
                               ": dims must be sorted and distinct, got ",
                               shapeString(dims));
  }
  SmallVector<int64_t> result;
  for (int64_t i = 0; i < rank; ++i) {
    if (!llvm::is_contained(dims, i))
      result.push_back(shape[i]);
    else if (keepdim)
      result.push_back(1);
  }
  return result;
}

/// The reduced shape with the reduced dimensions kept as 1.
SmallVector<int64_t> keptShape(ArrayRef<int64_t> shape,
                               ArrayRef<int64_t> dims) {
  SmallVector<int64_t> result(shape);
  for (int64_t d : dims)
    result[d] = 1;
  return result;
}

/// A 0-d f32 tensor holding `value`.
Value scalarFill(OpBuilder &b, Location loc, float value) {
  return b.create<FillOp>(loc, f32Tensor(b.getContext(), {}),
                          b.getF32FloatAttr(value));
}

} // namespace

static LogicalResult inferSoftmaxLike(std::optional<Location> loc,
                                      StringRef name, Value input, int64_t dim,
                                      SmallVectorImpl<Type> &types) {
  int64_t rank = tensorType(input).getRank();
  if (dim < 0 || dim >= rank)
    return emitOptionalError(loc, name, ": dim ", dim, " is out of range for ",
                             shapeString(shapeOf(input)));
  types.push_back(input.getType());
  return success();
}

/// The gradient of a reduction: the result gradient with the reduced
/// dimensions put back (as 1), optionally divided by `count`, broadcast to
/// the input.
static Value reductionVJP(OpBuilder &b, Location loc, Value dy, Value input,
                          ArrayRef<int64_t> dims,
                          std::optional<int64_t> count) {
  auto kept = f32Tensor(b.getContext(), keptShape(shapeOf(input), dims));
  Value g = dy;
  if (g.getType() != kept)
    g = b.create<ReshapeOp>(loc, kept, g);
  // torch's mean_backward divides the expanded gradient by the count;
  // dividing before broadcasting gives the same values.
  if (count)
    g = b.create<DivOp>(loc, g, scalarFill(b, loc, static_cast<float>(*count)));
  if (g.getType() != input.getType())
    g = b.create<BroadcastToOp>(loc, input.getType(), g);
  return g;
}

//===----------------------------------------------------------------------===//
// sum
//===----------------------------------------------------------------------===//

LogicalResult SumOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  auto shape = reducedShape(loc, "sum", shapeOf(adaptor.getInput()),
                            adaptor.getDims(), adaptor.getKeepdim());
  if (failed(shape))
    return failure();
  types.push_back(f32Tensor(ctx, *shape));
  return success();
}

SmallVector<Value> SumOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {reductionVJP(b, getLoc(), resultGrads[0], getInput(), getDims(),
                       std::nullopt)};
}

//===----------------------------------------------------------------------===//
// mean
//===----------------------------------------------------------------------===//

LogicalResult MeanOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto shape = reducedShape(loc, "mean", shapeOf(adaptor.getInput()),
                            adaptor.getDims(), adaptor.getKeepdim());
  if (failed(shape))
    return failure();
  types.push_back(f32Tensor(ctx, *shape));
  return success();
}

SmallVector<Value> MeanOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  int64_t count = 1;
  for (int64_t d : getDims())
    count *= shapeOf(getInput())[d];
  return {
      reductionVJP(b, getLoc(), resultGrads[0], getInput(), getDims(), count)};
}

//===----------------------------------------------------------------------===//
// sum_to
//===----------------------------------------------------------------------===//

LogicalResult SumToOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput()), out = shapeOf(getResult());
  auto shape = broadcastShapes(in, out);
  if (failed(shape) || ArrayRef<int64_t>(*shape) != in)
    return emitOpError("result shape ")
           << shapeString(out) << " does not broadcast to the input shape "
           << shapeString(in);
  return success();
}

OpFoldResult SumToOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// softmax
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferSoftmaxLike(loc, "softmax", adaptor.getInput(), adaptor.getDim(),
                          types);
}

SmallVector<Value> SoftmaxOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<SoftmaxGradOp>(getLoc(), resultGrads[0], getResult(),
                                  getDimAttr())};
}

LogicalResult SoftmaxGradOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferSoftmaxLike(loc, "softmax_grad", adaptor.getGrad(),
                          adaptor.getDim(), types);
}

//===----------------------------------------------------------------------===//
// log_softmax
//===----------------------------------------------------------------------===//

LogicalResult LogSoftmaxOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  return inferSoftmaxLike(loc, "log_softmax", adaptor.getInput(),
                          adaptor.getDim(), types);
}

SmallVector<Value> LogSoftmaxOp::buildVJP(OpBuilder &b,
                                          ValueRange resultGrads) {
  return {b.create<LogSoftmaxGradOp>(getLoc(), resultGrads[0], getResult(),
                                     getDimAttr())};
}

LogicalResult LogSoftmaxGradOp::inferReturnTypes(MLIRContext *,
                                                 std::optional<Location> loc,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &types) {
  return inferSoftmaxLike(loc, "log_softmax_grad", adaptor.getGrad(),
                          adaptor.getDim(), types);
}
