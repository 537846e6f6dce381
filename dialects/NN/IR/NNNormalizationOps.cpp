//===- NNNormalizationOps.cpp - Normalization ops -------------------------===//
//
// The methods of the ops in NNNormalizationOps.td (the op classes are generated
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

/// Checks input [N, C, *] against per-channel [C] operands; returns C.
static FailureOr<int64_t> checkBatchNormOperands(std::optional<Location> loc,
                                                 StringRef op, Value input,
                                                 ValueRange perChannel) {
  ArrayRef<int64_t> x = shapeOf(input);
  if (x.size() < 2)
    return emitOptionalError(loc, op, ": expected an input [N, C, ...], got ",
                             shapeString(x));
  for (Value v : perChannel)
    if (shapeOf(v) != ArrayRef<int64_t>{x[1]})
      return emitOptionalError(loc, op,
                               ": expected per-channel operands of "
                               "shape [",
                               x[1], "] for input ", shapeString(x), ", got ",
                               shapeString(shapeOf(v)));
  return x[1];
}

static LogicalResult checkLayerNorm(std::optional<Location> loc, StringRef name,
                                    Value input, Value weight,
                                    int64_t normalizedRank) {
  ArrayRef<int64_t> x = shapeOf(input), w = shapeOf(weight);
  if (normalizedRank > static_cast<int64_t>(x.size()))
    return emitOptionalError(loc, name, ": cannot normalize the last ",
                             normalizedRank, " dimensions of ", shapeString(x));
  if (ArrayRef<int64_t>(x).take_back(normalizedRank) != w)
    return emitOptionalError(loc, name, ": weight shape ", shapeString(w),
                             " does not match the last ", normalizedRank,
                             " dimensions of ", shapeString(x));
  return success();
}

//===----------------------------------------------------------------------===//
// batch_norm
//===----------------------------------------------------------------------===//

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto channels = checkBatchNormOperands(
      loc, "batch_norm", adaptor.getInput(),
      {adaptor.getWeight(), adaptor.getBias(), adaptor.getRunningMean(),
       adaptor.getRunningVar()});
  if (failed(channels))
    return failure();
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (input.getNumElements() / *channels < 2)
    return emitOptionalError(
        loc,
        "batch_norm: expected more than 1 value per channel when "
        "training, got input ",
        shapeString(input.getShape()));
  types.push_back(input);
  types.append(4, f32Tensor(ctx, {*channels}));
  return success();
}

LogicalResult BatchNormOp::verify() {
  double momentum = getMomentum().convertToDouble();
  double eps = getEps().convertToDouble();
  if (!(momentum >= 0.0 && momentum <= 1.0))
    return emitOpError("momentum must be in [0, 1], got ") << momentum;
  if (!(eps >= 0.0))
    return emitOpError("eps must be non-negative, got ") << eps;
  return success();
}

SmallVector<Value> BatchNormOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  // Only the normalized result carries a gradient: the saved statistics are
  // not visible to the model, and running statistics are buffers, which
  // PyTorch updates without recording them for autograd.
  SmallVector<Value> grads(getNumOperands());
  if (!resultGrads[0])
    return grads;
  auto grad = b.create<BatchNormGradOp>(getLoc(), resultGrads[0], getInput(),
                                        getWeight(), getMean(), getInvstd());
  grads[0] = grad.getGradInput();
  grads[1] = grad.getGradWeight();
  grads[2] = grad.getGradBias();
  return grads;
}

// New running statistics are written over the old ones; the normalized
// value and the saved statistics have storage of their own.
Value BatchNormOp::getAliasedValue(unsigned resultNumber) {
  Value result = getOperation()->getResult(resultNumber);
  if (result == getNewRunningMean())
    return getRunningMean();
  if (result == getNewRunningVar())
    return getRunningVar();
  return Value();
}

LogicalResult BatchNormGradOp::inferReturnTypes(MLIRContext *ctx,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  if (adaptor.getGrad().getType() != adaptor.getInput().getType())
    return emitOptionalError(loc, "batch_norm_grad: gradient ",
                             adaptor.getGrad().getType(), " and input ",
                             adaptor.getInput().getType(), " differ");
  auto channels = checkBatchNormOperands(
      loc, "batch_norm_grad", adaptor.getInput(),
      {adaptor.getWeight(), adaptor.getMean(), adaptor.getInvstd()});
  if (failed(channels))
    return failure();
  types.push_back(adaptor.getInput().getType());
  types.append(2, f32Tensor(ctx, {*channels}));
  return success();
}

//===----------------------------------------------------------------------===//
// increment
//===----------------------------------------------------------------------===//

LogicalResult IncrementOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location>,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

// num_batches_tracked.add_(1).
Value IncrementOp::getAliasedValue(unsigned) { return getInput(); }

//===----------------------------------------------------------------------===//
// group_norm
//===----------------------------------------------------------------------===//

/// Checks input [N, C, *] with C divisible by `numGroups` against a [C]
/// weight.
static LogicalResult checkGroupNorm(std::optional<Location> loc, StringRef name,
                                    Value input, Value weight,
                                    int64_t numGroups) {
  auto channels = checkBatchNormOperands(loc, name, input, {weight});
  if (failed(channels))
    return failure();
  if (*channels % numGroups != 0)
    return emitOptionalError(loc, name, ": expected the ", *channels,
                             " channels of ", shapeString(shapeOf(input)),
                             " to be divisible by num_groups = ", numGroups);
  return success();
}

LogicalResult GroupNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  if (failed(checkGroupNorm(loc, "group_norm", adaptor.getInput(),
                            adaptor.getWeight(), adaptor.getNumGroups())))
    return failure();
  types.push_back(adaptor.getInput().getType());
  return success();
}

SmallVector<Value> GroupNormOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  auto grad =
      b.create<GroupNormGradOp>(getLoc(), resultGrads[0], getInput(),
                                getWeight(), getNumGroupsAttr(), getEpsAttr());
  return {grad.getInputGrad(), grad.getWeightGrad(), grad.getBiasGrad()};
}

LogicalResult GroupNormGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  if (failed(checkGroupNorm(loc, "group_norm_grad", adaptor.getInput(),
                            adaptor.getWeight(), adaptor.getNumGroups())))
    return failure();
  if (adaptor.getGrad().getType() != adaptor.getInput().getType())
    return emitOptionalError(loc, "group_norm_grad: gradient ",
                             adaptor.getGrad().getType(), " and input ",
                             adaptor.getInput().getType(), " differ");
  types.push_back(adaptor.getInput().getType());
  types.push_back(adaptor.getWeight().getType());
  types.push_back(adaptor.getWeight().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// layer_norm
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  if (failed(checkLayerNorm(loc, "layer_norm", adaptor.getInput(),
                            adaptor.getWeight(), adaptor.getNormalizedRank())))
    return failure();
  if (adaptor.getBias().getType() != adaptor.getWeight().getType())
    return emitOptionalError(loc, "layer_norm: bias shape ",
                             shapeString(shapeOf(adaptor.getBias())),
                             " differs from the weight shape ",
                             shapeString(shapeOf(adaptor.getWeight())));
  types.push_back(adaptor.getInput().getType());
  return success();
}

SmallVector<Value> LayerNormOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  auto grad = b.create<LayerNormGradOp>(getLoc(), resultGrads[0], getInput(),
                                        getWeight(), getNormalizedRankAttr(),
                                        getEpsAttr());
  return {grad.getInputGrad(), grad.getWeightGrad(), grad.getBiasGrad()};
}

LogicalResult LayerNormGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  if (failed(checkLayerNorm(loc, "layer_norm_grad", adaptor.getInput(),
                            adaptor.getWeight(), adaptor.getNormalizedRank())))
    return failure();
  if (adaptor.getGrad().getType() != adaptor.getInput().getType())
    return emitOptionalError(loc, "layer_norm_grad: gradient ",
                             adaptor.getGrad().getType(), " and input ",
                             adaptor.getInput().getType(), " differ");
  types.push_back(adaptor.getInput().getType());
  types.push_back(adaptor.getWeight().getType());
  types.push_back(adaptor.getWeight().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// batch_norm_inference
//===----------------------------------------------------------------------===//

LogicalResult BatchNormInferenceOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  if (failed(checkBatchNormOperands(
          loc, "batch_norm_inference", adaptor.getInput(),
          {adaptor.getWeight(), adaptor.getBias(), adaptor.getRunningMean(),
           adaptor.getRunningVar()})))
    return failure();
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult BatchNormInferenceOp::verify() {
  double eps = getEps().convertToDouble();
  if (!(eps >= 0.0))
    return emitOpError("eps must be non-negative, got ") << eps;
  return success();
}

SmallVector<Value> BatchNormInferenceOp::buildVJP(OpBuilder &b,
                                                  ValueRange resultGrads) {
  // The running statistics are buffers: constants of the step, without a
  // gradient (as in PyTorch, which never records them for autograd).
  SmallVector<Value> grads(getNumOperands());
  if (!resultGrads[0])
    return grads;
  auto grad = b.create<BatchNormInferenceGradOp>(
      getLoc(), resultGrads[0], getInput(), getWeight(), getRunningMean(),
      getRunningVar(), getEpsAttr());
  grads[0] = grad.getGradInput();
  grads[1] = grad.getGradWeight();
  grads[2] = grad.getGradBias();
  return grads;
}

LogicalResult BatchNormInferenceGradOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  if (adaptor.getGrad().getType() != adaptor.getInput().getType())
    return emitOptionalError(loc, "batch_norm_inference_grad: gradient ",
                             adaptor.getGrad().getType(), " and input ",
                             adaptor.getInput().getType(), " differ");
  auto channels = checkBatchNormOperands(
      loc, "batch_norm_inference_grad", adaptor.getInput(),
      {adaptor.getWeight(), adaptor.getRunningMean(), adaptor.getRunningVar()});
  if (failed(channels))
    return failure();
  types.push_back(adaptor.getInput().getType());
  types.append(2, f32Tensor(ctx, {*channels}));
  return success();
}
