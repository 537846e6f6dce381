//===- NNOps.cpp - Shape inference and verifiers of the nn dialect --------===//
//
// Result types are inferred from operands (InferTypeOpAdaptor), so the
// importer can check a model's shapes op by op and report the first
// mismatch at the model's source line instead of building invalid IR.
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

FailureOr<SmallVector<int64_t>>
dpc::nn::broadcastShapes(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t l = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t r = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (l != r && l != 1 && r != 1)
      return failure();
    result[i] = l == 1 ? r : l;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Forward ops
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> x = shapeOf(adaptor.getInput());
  ArrayRef<int64_t> w = shapeOf(adaptor.getWeight());
  if (x.empty() || w.size() != 2)
    return emitOptionalError(loc,
                             "linear: expected input [..., K] and "
                             "weight [N, K], got input ",
                             shapeString(x), " and weight ", shapeString(w));
  if (x.back() != w[1])
    return emitOptionalError(
        loc, "linear: input has ", x.back(), " features (shape ",
        shapeString(x), ") but the weight ", shapeString(w), " expects ", w[1]);
  if (Value bias = adaptor.getBias()) {
    ArrayRef<int64_t> b = shapeOf(bias);
    if (b.size() != 1 || b[0] != w[0])
      return emitOptionalError(loc, "linear: bias shape ", shapeString(b),
                               " does not match ", w[0], " output features");
  }
  SmallVector<int64_t> shape(x.drop_back());
  shape.push_back(w[0]);
  types.push_back(f32Tensor(ctx, shape));
  return success();
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> a = shapeOf(adaptor.getLhs());
  ArrayRef<int64_t> b = shapeOf(adaptor.getRhs());
  if (a.size() < 2 || b.size() < 2)
    return emitOptionalError(loc, "matmul: operands need rank >= 2, got ",
                             shapeString(a), " and ", shapeString(b));
  bool ta = adaptor.getTransposeLhs(), tb = adaptor.getTransposeRhs();
  size_t ra = a.size(), rb = b.size();
  int64_t m = ta ? a[ra - 1] : a[ra - 2], k = ta ? a[ra - 2] : a[ra - 1];
  int64_t kb = tb ? b[rb - 1] : b[rb - 2], n = tb ? b[rb - 2] : b[rb - 1];
  if (k != kb)
    return emitOptionalError(
        loc, "matmul: inner dimensions differ: ", shapeString(a),
        (ta ? "^T" : ""), " @ ", shapeString(b), (tb ? "^T" : ""));
  auto batch = broadcastShapes(a.drop_back(2), b.drop_back(2));
  if (failed(batch))
    return emitOptionalError(loc, "matmul: batch dimensions of ",
                             shapeString(a), " and ", shapeString(b),
                             " do not broadcast");
  SmallVector<int64_t> shape(*batch);
  shape.append({m, n});
  types.push_back(f32Tensor(ctx, shape));
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> x = shapeOf(adaptor.getInput());
  if (x.size() != 2)
    return emitOptionalError(loc, "transpose: expected a 2-d tensor, got ",
                             shapeString(x));
  types.push_back(f32Tensor(ctx, {x[1], x[0]}));
  return success();
}

LogicalResult AddOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferBroadcastF32(ctx, loc, "add", adaptor.getLhs(), adaptor.getRhs(),
                           types);
}

LogicalResult SubOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferBroadcastF32(ctx, loc, "sub", adaptor.getLhs(), adaptor.getRhs(),
                           types);
}

LogicalResult MulOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferBroadcastF32(ctx, loc, "mul", adaptor.getLhs(), adaptor.getRhs(),
                           types);
}

// Unary ops and the elementwise backward ops keep their first operand's type;
// the backward ops also require the second operand to match it.
#define DPC_SAME_TYPE_AS_INPUT(OP, GETTER)                                     \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location>,   \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    types.push_back(adaptor.GETTER().getType());                               \
    return success();                                                          \
  }
DPC_SAME_TYPE_AS_INPUT(ScaleOp, getInput)
DPC_SAME_TYPE_AS_INPUT(CopyOp, getInput)
#undef DPC_SAME_TYPE_AS_INPUT

static LogicalResult inferElementwiseGrad(std::optional<Location> loc,
                                          StringRef name, Value grad,
                                          Value saved,
                                          SmallVectorImpl<Type> &types) {
  if (grad.getType() != saved.getType())
    return emitOptionalError(loc, name, ": gradient ", grad.getType(),
                             " and saved value ", saved.getType(), " differ");
  types.push_back(grad.getType());
  return success();
}

LogicalResult ReluGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  return inferElementwiseGrad(loc, "relu_grad", adaptor.getGrad(),
                              adaptor.getInput(), types);
}

LogicalResult TanhGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  return inferElementwiseGrad(loc, "tanh_grad", adaptor.getGrad(),
                              adaptor.getOutput(), types);
}

LogicalResult SigmoidGradOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferElementwiseGrad(loc, "sigmoid_grad", adaptor.getGrad(),
                              adaptor.getOutput(), types);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

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

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *ctx,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  if (failed(checkCrossEntropyOperands(loc, adaptor.getLogits(),
                                       adaptor.getLabels())))
    return failure();
  types.push_back(f32Tensor(ctx, {}));
  return success();
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

LogicalResult MSELossOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  if (adaptor.getInput().getType() != adaptor.getTarget().getType())
    return emitOptionalError(
        loc, "mse_loss: input ", shapeString(shapeOf(adaptor.getInput())),
        " and target ", shapeString(shapeOf(adaptor.getTarget())),
        " must have the same shape");
  types.push_back(f32Tensor(ctx, {}));
  return success();
}

LogicalResult MSELossGradOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferElementwiseGrad(loc, "mse_loss_grad", adaptor.getInput(),
                              adaptor.getTarget(), types);
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
// reshape
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if (in.getElementType() != out.getElementType())
    return emitOpError("changes the element type");
  if (in.getNumElements() != out.getNumElements())
    return emitOpError("has ") << in.getNumElements() << " input elements but "
                               << out.getNumElements() << " result elements";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  // reshape(reshape(x)) = reshape(x)
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    setOperand(producer.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// sgd_update
//===----------------------------------------------------------------------===//

LogicalResult SGDUpdateOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Type paramType = adaptor.getParam().getType();
  if (adaptor.getGrad().getType() != paramType ||
      (adaptor.getMomentumBuffer() &&
       adaptor.getMomentumBuffer().getType() != paramType))
    return emitOptionalError(loc, "sgd_update: parameter, gradient and "
                                  "momentum buffer types differ");
  types.push_back(paramType);
  if (adaptor.getMomentumBuffer())
    types.push_back(paramType);
  return success();
}

LogicalResult SGDUpdateOp::verify() {
  bool hasMomentum = getMomentum().convertToFloat() != 0.0f;
  if (hasMomentum != static_cast<bool>(getMomentumBuffer()))
    return emitOpError("has a momentum buffer exactly when momentum != 0");
  if (getNesterov() && !hasMomentum)
    return emitOpError("nesterov needs a non-zero momentum");
  return success();
}

//===----------------------------------------------------------------------===//
// Storage aliases (StorageAliasOpInterface)
//===----------------------------------------------------------------------===//

Value ReshapeOp::getAliasedValue(unsigned) { return getInput(); }
bool ReshapeOp::isStorageView() { return true; }

// The updated parameter and momentum buffer overwrite the old ones.
Value SGDUpdateOp::getAliasedValue(unsigned resultNumber) {
  return resultNumber == 0 ? getParam() : getMomentumBuffer();
}

#define GET_OP_CLASSES
#include "dialects/NN/IR/NNOps.cpp.inc"
