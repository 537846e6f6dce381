//===- NNOptimizerOps.cpp - Optimizer ops of the nn dialect ---------------===//
//
// Shape inference and verifiers of the ops in NNOptimizerOps.td. The op
// classes themselves are generated into NNOps.cpp.inc with the rest of the
// dialect.
//
//===----------------------------------------------------------------------===//

#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"

#include <cmath>

using namespace mlir;
using namespace dpc::nn;

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

//===----------------------------------------------------------------------===//
// micro_batch
//===----------------------------------------------------------------------===//

LogicalResult MicroBatchOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  auto type = cast<RankedTensorType>(adaptor.getInput().getType());
  // Read the attributes defensively: inference also runs on ops that the
  // verifier has not seen yet.
  DictionaryAttr attrs = adaptor.getAttributes();
  auto indexAttr = attrs ? attrs.getAs<IntegerAttr>("index") : IntegerAttr();
  auto countAttr = attrs ? attrs.getAs<IntegerAttr>("count") : IntegerAttr();
  if (!indexAttr || !countAttr)
    return emitOptionalError(loc, "micro_batch: needs integer 'index' and "
                                  "'count' attributes");
  int64_t index = indexAttr.getInt(), count = countAttr.getInt();
  if (type.getRank() == 0)
    return emitOptionalError(loc, "micro_batch: a scalar has no batch "
                                  "dimension to split");
  if (count <= 0 || type.getDimSize(0) % count != 0)
    return emitOptionalError(loc, "micro_batch: dimension 0 of ", type,
                             " does not split into ", count, " micro-batches");
  if (index < 0 || index >= count)
    return emitOptionalError(loc, "micro_batch: index ", index,
                             " is not in [0, ", count, ")");
  SmallVector<int64_t> shape(type.getShape());
  shape[0] /= count;
  types.push_back(type.clone(shape));
  return success();
}

//===----------------------------------------------------------------------===//
// Storage aliases (StorageAliasOpInterface)
//===----------------------------------------------------------------------===//

// The updated parameter and moments overwrite the old ones.
Value AdamUpdateOp::getAliasedValue(unsigned resultNumber) {
  Value owners[] = {getParam(), getExpAvg(), getExpAvgSq()};
  return owners[resultNumber];
}

// Micro-batch k is rows [k*n, (k+1)*n) of the input, read in place.
Value MicroBatchOp::getAliasedValue(unsigned) { return getInput(); }
bool MicroBatchOp::isStorageView() { return true; }

//===----------------------------------------------------------------------===//
// clip_grad_norm, clip_grad_value
//===----------------------------------------------------------------------===//

LogicalResult ClipGradNormOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location>,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  for (Value grad : adaptor.getGrads())
    types.push_back(grad.getType());
  return success();
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
