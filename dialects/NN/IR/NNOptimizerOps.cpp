//===- NNOptimizerOps.cpp - Optimizer updates: types, verifiers -----------===//
//
// The methods of the ops in NNOptimizerOps.td (the op classes are generated
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

#include <cmath>

using namespace mlir;
using namespace dpc::nn;

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
  bool hasMomentum = FloatAttr::getValueAsDouble(getMomentum()) != 0.0;
  if (hasMomentum != static_cast<bool>(getMomentumBuffer()))
    return emitOpError("has a momentum buffer exactly when momentum != 0");
  if (getNesterov() && !hasMomentum)
    return emitOpError("nesterov needs a non-zero momentum");
  return success();
}

// The updated parameter and momentum buffer overwrite the old ones.
Value SGDUpdateOp::getAliasedValue(unsigned resultNumber) {
  return resultNumber == 0 ? getParam() : getMomentumBuffer();
}

//===----------------------------------------------------------------------===//
// adam_update
//===----------------------------------------------------------------------===//

LogicalResult AdamUpdateOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  Type paramType = adaptor.getParam().getType();
  for (Value v :
       {adaptor.getGrad(), adaptor.getExpAvg(), adaptor.getExpAvgSq()})
    if (v.getType() != paramType)
      return emitOptionalError(loc, "adam_update: parameter ", paramType,
                               ", gradient and moments must have the same "
                               "type, got ",
                               v.getType());
  types.append(3, paramType);
  return success();
}

LogicalResult AdamUpdateOp::verify() {
  // The checks of torch.optim.Adam's constructor.
  double lr = getLr().convertToDouble(), eps = getEps().convertToDouble();
  double beta1 = getBeta1().convertToDouble();
  double beta2 = getBeta2().convertToDouble();
  double weightDecay = getWeightDecay().convertToDouble();
  if (!(lr >= 0.0))
    return emitOpError("needs lr >= 0, got ") << lr;
  if (!(eps >= 0.0))
    return emitOpError("needs eps >= 0, got ") << eps;
  if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0))
    return emitOpError("needs betas in [0, 1), got (")
           << beta1 << ", " << beta2 << ")";
  if (!(weightDecay >= 0.0))
    return emitOpError("needs weight_decay >= 0, got ") << weightDecay;
  return success();
}

// The updated parameter and moments overwrite the old ones.
Value AdamUpdateOp::getAliasedValue(unsigned resultNumber) {
  Value owners[] = {getParam(), getExpAvg(), getExpAvgSq()};
  return owners[resultNumber];
}

//===----------------------------------------------------------------------===//
// clip_grad_norm, clip_grad_value
//===----------------------------------------------------------------------===//

/// The ops over every gradient (clip, unscale) return them in place: the
/// gradients' types.
static LogicalResult gradientTypes(ValueRange grads,
                                   SmallVectorImpl<Type> &types) {
  llvm::append_range(types, grads.getTypes());
  return success();
}

LogicalResult ClipGradNormOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location>,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  return gradientTypes(adaptor.getGrads(), types);
}

LogicalResult ClipGradNormOp::verify() {
  double maxNorm = getMaxNorm().convertToDouble();
  double normType = getNormType().convertToDouble();
  if (getGrads().empty())
    return emitOpError("needs at least one gradient");
  if (!std::isfinite(maxNorm) || maxNorm <= 0.0)
    return emitOpError("needs a finite positive max_norm, got ") << maxNorm;
  if (std::isnan(normType) || normType <= 0.0)
    return emitOpError("needs a positive norm_type (or inf), got ") << normType;
  return success();
}

// The gradients are scaled in place.
Value ClipGradNormOp::getAliasedValue(unsigned resultNumber) {
  return getGrads()[resultNumber];
}

LogicalResult UnscaleGradsOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location>,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  return gradientTypes(adaptor.getGrads(), types);
}

LogicalResult UnscaleGradsOp::verify() {
  if (getGrads().empty())
    return emitOpError("needs at least one gradient");
  // torch.amp.GradScaler's checks of its arguments (the scale must stay a
  // finite positive float32).
  double initScale = getInitScale().convertToDouble();
  if (!(initScale > 0.0) || !std::isfinite(static_cast<float>(initScale)))
    return emitOpError("needs a positive init_scale finite in float32, got ")
           << initScale;
  if (!(getGrowthFactor().convertToDouble() > 1.0))
    return emitOpError("needs a growth_factor above 1.0, got ")
           << getGrowthFactor().convertToDouble();
  double backoff = getBackoffFactor().convertToDouble();
  if (!(backoff > 0.0 && backoff < 1.0))
    return emitOpError("needs a backoff_factor in (0, 1), got ") << backoff;
  if (getGrowthInterval() <= 0)
    return emitOpError("needs a positive growth_interval, got ")
           << getGrowthInterval();
  return success();
}

// The gradients are unscaled in place.
Value UnscaleGradsOp::getAliasedValue(unsigned resultNumber) {
  return getGrads()[resultNumber];
}

LogicalResult ClipGradValueOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location>,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getGrad().getType());
  return success();
}

LogicalResult ClipGradValueOp::verify() {
  double clipValue = getClipValue().convertToDouble();
  if (!std::isfinite(clipValue) || clipValue <= 0.0)
    return emitOpError("needs a finite positive clip_value, got ") << clipValue;
  return success();
}

Value ClipGradValueOp::getAliasedValue(unsigned) { return getGrad(); }
