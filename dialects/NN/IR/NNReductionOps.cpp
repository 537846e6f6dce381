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

/// A 0-d tensor of `like`'s float type holding `value`.
Value scalarFill(OpBuilder &b, Location loc, Value like, double value) {
  RankedTensorType type = computeTensor(like, {});
  return b.create<FillOp>(loc, type, floatAttrFor(type, value));
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
  auto kept = computeTensor(input, keptShape(shapeOf(input), dims));
  Value g = dy;
  if (g.getType() != kept)
    g = b.create<ReshapeOp>(loc, kept, g);
  // torch's mean_backward divides the expanded gradient by the count;
  // dividing before broadcasting gives the same values.
  if (count)
    g = b.create<DivOp>(loc, g,
                        scalarFill(b, loc, input, static_cast<double>(*count)));
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
  types.push_back(computeTensor(adaptor.getInput(), *shape));
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
  types.push_back(computeTensor(adaptor.getInput(), *shape));
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
// amax, amin
//===----------------------------------------------------------------------===//

static LogicalResult inferExtremum(MLIRContext *ctx,
                                   std::optional<Location> loc, StringRef name,
                                   Value input, ArrayRef<int64_t> dims,
                                   bool keepdim, SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> shape = shapeOf(input);
  auto result = reducedShape(loc, name, shape, dims, keepdim);
  if (failed(result))
    return failure();
  for (int64_t d : dims)
    if (shape[d] == 0)
      return emitOptionalError(loc, name, ": cannot reduce the empty dim ", d,
                               " of ", shapeString(shape));
  types.push_back(f32Tensor(ctx, *result));
  return success();
}

/// torch's amax / amin backward (and max() / min()'s
/// evenly_distribute_backward): the gradient split evenly among the
/// elements equal to the result, `grad / count * mask` with `mask = (x ==
/// result)` and `count` its sum over the reduced dims.
static Value extremumVJP(OpBuilder &b, Location loc, Value dy, Value input,
                         Value result, ArrayRef<int64_t> dims) {
  auto kept = f32Tensor(b.getContext(), keptShape(shapeOf(input), dims));
  auto keptValue = [&](Value v) -> Value {
    return v.getType() == kept ? v : b.create<ReshapeOp>(loc, kept, v);
  };
  Value mask =
      b.create<CompareOp>(loc, input, keptValue(result), b.getStringAttr("eq"));
  Value count =
      b.create<SumOp>(loc, mask, b.getDenseI64ArrayAttr(dims), b.getUnitAttr());
  Value share = b.create<DivOp>(loc, keptValue(dy), count);
  return b.create<MulOp>(loc, share, mask);
}

LogicalResult AMaxOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  return inferExtremum(ctx, loc, "amax", adaptor.getInput(), adaptor.getDims(),
                       adaptor.getKeepdim(), types);
}

SmallVector<Value> AMaxOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {extremumVJP(b, getLoc(), resultGrads[0], getInput(), getResult(),
                      getDims())};
}

LogicalResult AMinOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  return inferExtremum(ctx, loc, "amin", adaptor.getInput(), adaptor.getDims(),
                       adaptor.getKeepdim(), types);
}

SmallVector<Value> AMinOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {extremumVJP(b, getLoc(), resultGrads[0], getInput(), getResult(),
                      getDims())};
}

//===----------------------------------------------------------------------===//
// max_dim
//===----------------------------------------------------------------------===//

LogicalResult MaxDimOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  int64_t dim = adaptor.getDim();
  ArrayRef<int64_t> shape = shapeOf(adaptor.getInput());
  auto result =
      reducedShape(loc, "max_dim", shape, {dim}, adaptor.getKeepdim());
  if (failed(result))
    return failure();
  if (shape[dim] == 0)
    return emitOptionalError(loc, "max_dim: cannot reduce the empty dim ", dim,
                             " of ", shapeString(shape));
  types.push_back(f32Tensor(ctx, *result));
  types.push_back(RankedTensorType::get(*result, IntegerType::get(ctx, 64)));
  return success();
}

SmallVector<Value> MaxDimOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  if (!resultGrads[0])
    return {Value()};
  int64_t dim = getDim();
  return {b.create<MaxDimGradOp>(
      getLoc(), resultGrads[0], getIndices(), getDimAttr(), getKeepdimAttr(),
      b.getI64IntegerAttr(shapeOf(getInput())[dim]))};
}

LogicalResult MaxDimGradOp::inferReturnTypes(MLIRContext *ctx,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> grad = shapeOf(adaptor.getGrad());
  if (grad != shapeOf(adaptor.getIndices()))
    return emitOptionalError(
        loc, "max_dim_grad: gradient ", shapeString(grad), " and indices ",
        shapeString(shapeOf(adaptor.getIndices())), " differ");
  int64_t dim = adaptor.getDim();
  int64_t rank = grad.size() + (adaptor.getKeepdim() ? 0 : 1);
  if (dim < 0 || dim >= rank || (adaptor.getKeepdim() && grad[dim] != 1))
    return emitOptionalError(loc, "max_dim_grad: dim ", dim,
                             " does not fit the gradient ", shapeString(grad));
  SmallVector<int64_t> shape(grad);
  if (adaptor.getKeepdim())
    shape[dim] = adaptor.getDimSize();
  else
    shape.insert(shape.begin() + dim, adaptor.getDimSize());
  types.push_back(f32Tensor(ctx, shape));
  return success();
}

//===----------------------------------------------------------------------===//
// norm2
//===----------------------------------------------------------------------===//

LogicalResult Norm2Op::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto shape = reducedShape(loc, "norm2", shapeOf(adaptor.getInput()),
                            adaptor.getDims(), adaptor.getKeepdim());
  if (failed(shape))
    return failure();
  types.push_back(f32Tensor(ctx, *shape));
  return success();
}

// torch's norm_backward for p = 2: scale = grad / norm, masked to 0 where
// the norm is 0, times x.
SmallVector<Value> Norm2Op::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  auto kept =
      f32Tensor(b.getContext(), keptShape(shapeOf(getInput()), getDims()));
  auto keptValue = [&](Value v) -> Value {
    return v.getType() == kept ? v : b.create<ReshapeOp>(loc, kept, v);
  };
  Value norm = keptValue(getResult());
  Value scale = b.create<DivOp>(loc, keptValue(resultGrads[0]), norm);
  Value zero = b.create<CompareOp>(loc, norm, scalarFill(b, loc, norm, 0.0),
                                   b.getStringAttr("eq"));
  scale = b.create<MaskedFillOp>(loc, scale, zero, b.getF32FloatAttr(0.0f));
  return {b.create<MulOp>(loc, getInput(), scale)};
}

//===----------------------------------------------------------------------===//
// logsumexp
//===----------------------------------------------------------------------===//

LogicalResult LogSumExpOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferExtremum(ctx, loc, "logsumexp", adaptor.getInput(),
                       adaptor.getDims(), adaptor.getKeepdim(), types);
}

// torch's logsumexp_backward: grad * exp(x - result), both with the reduced
// dims put back.
SmallVector<Value> LogSumExpOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  auto kept =
      f32Tensor(b.getContext(), keptShape(shapeOf(getInput()), getDims()));
  auto keptValue = [&](Value v) -> Value {
    return v.getType() == kept ? v : b.create<ReshapeOp>(loc, kept, v);
  };
  Value shifted = b.create<SubOp>(loc, getInput(), keptValue(getResult()),
                                  b.getF32FloatAttr(1.0f));
  Value weights = b.create<ExpOp>(loc, shifted);
  return {b.create<MulOp>(loc, keptValue(resultGrads[0]), weights)};
}

//===----------------------------------------------------------------------===//
// cumsum
//===----------------------------------------------------------------------===//

LogicalResult CumSumOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferSoftmaxLike(loc, "cumsum", adaptor.getInput(), adaptor.getDim(),
                          types);
}

SmallVector<Value> CumSumOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<CumSumOp>(getLoc(), resultGrads[0], getDimAttr(),
                             getReverse() ? UnitAttr() : b.getUnitAttr())};
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
