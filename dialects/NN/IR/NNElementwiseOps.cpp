//===- NNElementwiseOps.cpp - Elementwise ops: types, verifiers, VJPs -----===//
//
// The methods of the ops in NNElementwiseOps.td (the op classes are generated
// into NNOps.cpp.inc, included by NNDialect.cpp). Result types are inferred
// from operands so that the importer reports a mismatch at the model's source
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

namespace {

bool isValidPredicate(StringRef p) {
  return llvm::is_contained({"eq", "ne", "lt", "le", "gt", "ge"}, p);
}

/// Whether `approximate` (absent: the default "none") names a gelu form.
/// Attributes with default values may be absent while an op is parsed or
/// built, so inference reads them through these helpers.
bool isValidApproximate(StringAttr approximate) {
  return !approximate || approximate.getValue() == "none" ||
         approximate.getValue() == "tanh";
}

} // namespace

//===----------------------------------------------------------------------===//
// add
//===----------------------------------------------------------------------===//

SmallVector<Value> AddOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  double alpha = FloatAttr::getValueAsDouble(getAlpha());
  return {sumToTypeOf(b, loc, dy, getLhs()),
          sumToTypeOf(b, loc, scaled(b, loc, dy, alpha), getRhs())};
}

//===----------------------------------------------------------------------===//
// sub
//===----------------------------------------------------------------------===//

SmallVector<Value> SubOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  double alpha = FloatAttr::getValueAsDouble(getAlpha());
  return {sumToTypeOf(b, loc, dy, getLhs()),
          sumToTypeOf(b, loc, scaled(b, loc, dy, -alpha), getRhs())};
}

//===----------------------------------------------------------------------===//
// mul
//===----------------------------------------------------------------------===//

SmallVector<Value> MulOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value da = b.create<MulOp>(loc, dy, getRhs());
  Value db = b.create<MulOp>(loc, dy, getLhs());
  return {sumToTypeOf(b, loc, da, getLhs()), sumToTypeOf(b, loc, db, getRhs())};
}

//===----------------------------------------------------------------------===//
// div
//===----------------------------------------------------------------------===//

SmallVector<Value> DivOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0], lhs = getLhs(), rhs = getRhs();
  // torch's div backward: grad / other, and -grad * ((self / other) / other).
  // A divisor that does not depend on a parameter (a number) has its
  // gradient ops removed again as dead code.
  Value dlhs = b.create<DivOp>(loc, dy, rhs);
  Value ratio = b.create<DivOp>(loc, b.create<DivOp>(loc, lhs, rhs), rhs);
  Value drhs = b.create<MulOp>(loc, scaled(b, loc, dy, -1.0), ratio);
  return {sumToTypeOf(b, loc, dlhs, lhs), sumToTypeOf(b, loc, drhs, rhs)};
}

//===----------------------------------------------------------------------===//
// maximum, minimum
//===----------------------------------------------------------------------===//

namespace {

/// A 0-d constant of `like`'s float type.
Value scalarFill(OpBuilder &b, Location loc, Value like, double value) {
  RankedTensorType type = computeTensor(like, {});
  return b.create<FillOp>(loc, type, floatAttrFor(type, value));
}

/// `x` with the elements where `mask` is nonzero set to 0.
Value zeroWhere(OpBuilder &b, Location loc, Value x, Value mask) {
  return b.create<MaskedFillOp>(loc, x, mask, floatAttrFor(x.getType(), 0.0));
}

Value compare(OpBuilder &b, Location loc, Value lhs, Value rhs,
              StringRef predicate) {
  auto types = SmallVector<Type>();
  (void)inferBroadcast(b.getContext(), loc, "compare", lhs, rhs, types);
  return b.create<CompareOp>(loc, types[0], lhs, rhs,
                             b.getStringAttr(predicate));
}

/// torch's max/min backward (derivatives.yaml, maximum and minimum): the
/// gradient goes to the larger (smaller) operand, half of it to each on a
/// tie: `where(self == other, grad / 2, grad).masked_fill_(self < other, 0)`
/// for self, and the same with `self > other` for other (swapped for
/// minimum).
SmallVector<Value> extremumVJP(OpBuilder &b, Location loc, Value dy, Value lhs,
                               Value rhs, bool maximum) {
  Value tie = compare(b, loc, lhs, rhs, "eq");
  Value shared =
      b.create<WhereOp>(loc, dy.getType(), tie, scaled(b, loc, dy, 0.5), dy);
  auto zeroWhen = [&](StringRef predicate) -> Value {
    return zeroWhere(b, loc, shared, compare(b, loc, lhs, rhs, predicate));
  };
  Value dlhs = zeroWhen(maximum ? "lt" : "gt");
  Value drhs = zeroWhen(maximum ? "gt" : "lt");
  return {sumToTypeOf(b, loc, dlhs, lhs), sumToTypeOf(b, loc, drhs, rhs)};
}

} // namespace

SmallVector<Value> MaximumOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return extremumVJP(b, getLoc(), resultGrads[0], getLhs(), getRhs(),
                     /*maximum=*/true);
}

SmallVector<Value> MinimumOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return extremumVJP(b, getLoc(), resultGrads[0], getLhs(), getRhs(),
                     /*maximum=*/false);
}

//===----------------------------------------------------------------------===//
// pow (tensor or number ** tensor)
//===----------------------------------------------------------------------===//

SmallVector<Value> PowOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0], base = getLhs(), exponent = getRhs();
  // torch's pow_backward_self: where(exponent == 0, 0,
  // grad * (exponent * self.pow(exponent - 1))). A base that does not depend
  // on a parameter (a number) has these ops removed again as dead code.
  Value lowered = b.create<SubOp>(loc, exponent.getType(), exponent,
                                  scalarFill(b, loc, exponent, 1.0),
                                  floatAttrFor(exponent.getType(), 1.0));
  Value slope =
      b.create<MulOp>(loc, exponent, b.create<PowOp>(loc, base, lowered));
  Value dbase = zeroWhere(
      b, loc, b.create<MulOp>(loc, dy, slope),
      compare(b, loc, exponent, scalarFill(b, loc, exponent, 0.0), "eq"));
  // pow_backward_exponent: grad * where(exponent >= 0 & self == 0, 0,
  // result * self.log()).
  Value logBase = b.create<LogOp>(loc, base.getType(), base);
  Value zeroBase = compare(b, loc, base, scalarFill(b, loc, base, 0.0), "eq");
  Value nonNegative =
      compare(b, loc, exponent, scalarFill(b, loc, exponent, 0.0), "ge");
  Value both = b.create<MulOp>(loc, zeroBase, nonNegative);
  Value rate =
      zeroWhere(b, loc, b.create<MulOp>(loc, getResult(), logBase), both);
  Value dexponent = b.create<MulOp>(loc, dy, rate);
  return {sumToTypeOf(b, loc, dbase, base),
          sumToTypeOf(b, loc, dexponent, exponent)};
}

//===----------------------------------------------------------------------===//
// where
//===----------------------------------------------------------------------===//

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  Type type = adaptor.getLhs().getType();
  if (adaptor.getCondition().getType() != type ||
      adaptor.getRhs().getType() != type)
    return emitOptionalError(
        loc, "where: condition ", shapeString(shapeOf(adaptor.getCondition())),
        ", lhs ", shapeString(shapeOf(adaptor.getLhs())), " and rhs ",
        shapeString(shapeOf(adaptor.getRhs())),
        " must have one shape (broadcast them first)");
  types.push_back(type);
  return success();
}

SmallVector<Value> WhereOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  // torch: where(condition, grad, 0) and where(condition, 0, grad).
  Location loc = getLoc();
  Value dy = resultGrads[0], condition = getCondition();
  Value falseMask =
      compare(b, loc, condition, scalarFill(b, loc, condition, 0.0), "eq");
  Value dlhs = zeroWhere(b, loc, dy, falseMask);
  Value drhs = zeroWhere(b, loc, dy, condition);
  return {Value(), dlhs, drhs};
}

//===----------------------------------------------------------------------===//
// convert
//===----------------------------------------------------------------------===//

LogicalResult ConvertOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  types.push_back(f32Tensor(ctx, shapeOf(adaptor.getInput())));
  return success();
}

SmallVector<Value> ConvertOp::buildVJP(OpBuilder &, ValueRange) {
  // No gradient flows into an integer tensor.
  return {Value()};
}

//===----------------------------------------------------------------------===//
// pack_saved, unpack_saved
//===----------------------------------------------------------------------===//

LogicalResult PackSavedOp::verify() {
  if (shapeOf(getInput()) != shapeOf(getResult()))
    return emitOpError("packs a tensor into one of another shape");
  return success();
}

LogicalResult UnpackSavedOp::verify() {
  if (shapeOf(getInput()) != shapeOf(getResult()))
    return emitOpError("unpacks a tensor into one of another shape");
  return success();
}

//===----------------------------------------------------------------------===//
// scale
//===----------------------------------------------------------------------===//

LogicalResult ScaleOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

SmallVector<Value> ScaleOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {
      scaled(b, getLoc(), resultGrads[0], getFactorAttr().getValueAsDouble())};
}

//===----------------------------------------------------------------------===//
// relu
//===----------------------------------------------------------------------===//

SmallVector<Value> ReluOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<ReluGradOp>(getLoc(), resultGrads[0], getInput())};
}

LogicalResult ReluGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  return inferElementwiseGrad(loc, "relu_grad", adaptor.getGrad(),
                              adaptor.getInput(), types);
}

//===----------------------------------------------------------------------===//
// tanh
//===----------------------------------------------------------------------===//

SmallVector<Value> TanhOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<TanhGradOp>(getLoc(), resultGrads[0], getResult())};
}

LogicalResult TanhGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  return inferElementwiseGrad(loc, "tanh_grad", adaptor.getGrad(),
                              adaptor.getOutput(), types);
}

//===----------------------------------------------------------------------===//
// sigmoid
//===----------------------------------------------------------------------===//

SmallVector<Value> SigmoidOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<SigmoidGradOp>(getLoc(), resultGrads[0], getResult())};
}

LogicalResult SigmoidGradOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferElementwiseGrad(loc, "sigmoid_grad", adaptor.getGrad(),
                              adaptor.getOutput(), types);
}

//===----------------------------------------------------------------------===//
// exp
//===----------------------------------------------------------------------===//

SmallVector<Value> ExpOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  // torch's exp backward: grad * result.
  return {b.create<MulOp>(getLoc(), resultGrads[0], getResult())};
}

SmallVector<Value> RoundToBF16Op::buildVJP(OpBuilder &b,
                                           ValueRange resultGrads) {
  // The gradient of a bfloat16 tensor is a bfloat16 tensor: every
  // contribution to it, summed, rounded once.
  return {b.create<RoundToBF16Op>(getLoc(), resultGrads[0])};
}

SmallVector<Value> RoundToF16Op::buildVJP(OpBuilder &b,
                                          ValueRange resultGrads) {
  // As round_bf16's: a float16 tensor's gradient is a float16 tensor (an
  // overflow to inf there is what GradScaler's step skipping catches).
  return {b.create<RoundToF16Op>(getLoc(), resultGrads[0])};
}

//===----------------------------------------------------------------------===//
// unary_grad (the VJP of the unary records with a gradient formula)
//===----------------------------------------------------------------------===//

LogicalResult UnaryGradOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  StringRef forward = adaptor.getForward();
  std::optional<RegisteredOperationName> name =
      RegisteredOperationName::lookup(("nn." + forward).str(), ctx);
  auto *record =
      name ? name->getInterface<ElementwiseUnaryOpInterface>() : nullptr;
  if (!record)
    return emitOptionalError(loc, "unary_grad: 'nn.", forward,
                             "' is not an elementwise unary op");
  if (adaptor.getParameters().size() != record->getNumParameters())
    return emitOptionalError(loc, "unary_grad: nn.", forward, " has ",
                             record->getNumParameters(), " parameters, got ",
                             adaptor.getParameters().size());
  return inferElementwiseGrad(loc, "unary_grad", adaptor.getGrad(),
                              adaptor.getSaved(), types);
}

//===----------------------------------------------------------------------===//
// gelu
//===----------------------------------------------------------------------===//

LogicalResult GeluOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  if (!isValidApproximate(adaptor.getApproximateAttr()))
    return emitOptionalError(loc,
                             "gelu: approximate must be 'none' or "
                             "'tanh', got ",
                             adaptor.getApproximateAttr());
  types.push_back(adaptor.getInput().getType());
  return success();
}

SmallVector<Value> GeluOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<GeluGradOp>(getLoc(), resultGrads[0], getInput(),
                               getApproximateAttr())};
}

LogicalResult GeluGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  if (!isValidApproximate(adaptor.getApproximateAttr()))
    return emitOptionalError(loc,
                             "gelu_grad: approximate must be 'none' or "
                             "'tanh', got ",
                             adaptor.getApproximateAttr());
  types.push_back(adaptor.getGrad().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// compare
//===----------------------------------------------------------------------===//

LogicalResult CompareOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  if (!isValidPredicate(adaptor.getPredicate()))
    return emitOptionalError(loc, "compare: unknown predicate '",
                             adaptor.getPredicate(),
                             "' (expected eq, ne, lt, le, gt or ge)");
  return inferBroadcast(ctx, loc, "compare", adaptor.getLhs(), adaptor.getRhs(),
                        types);
}

SmallVector<Value> CompareOp::buildVJP(OpBuilder &, ValueRange) {
  // A comparison is piecewise constant: no gradient flows through it.
  return {Value(), Value()};
}

//===----------------------------------------------------------------------===//
// masked_fill
//===----------------------------------------------------------------------===//

LogicalResult MaskedFillOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> x = shapeOf(adaptor.getInput()),
                    m = shapeOf(adaptor.getMask());
  auto shape = broadcastShapes(m, x);
  if (failed(shape) || ArrayRef<int64_t>(*shape) != x)
    return emitOptionalError(loc, "masked_fill: mask ", shapeString(m),
                             " does not broadcast to the input ",
                             shapeString(x));
  types.push_back(adaptor.getInput().getType());
  return success();
}

SmallVector<Value> MaskedFillOp::buildVJP(OpBuilder &b,
                                          ValueRange resultGrads) {
  return {zeroWhere(b, getLoc(), resultGrads[0], getMask()), Value()};
}
