//===- NNRandomOps.cpp - Random ops: types, verifiers, VJPs ---------------===//
//
// The methods of the ops in NNRandomOps.td (the op classes are generated into
// NNOps.cpp.inc, included by NNDialect.cpp).
//
//===----------------------------------------------------------------------===//

#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace dpc::nn;

//===----------------------------------------------------------------------===//
// dropout
//===----------------------------------------------------------------------===//

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  double p = adaptor.getP().convertToDouble();
  if (!(p >= 0.0 && p <= 1.0))
    return emitOptionalError(loc, "dropout: p must be between 0 and 1, got ",
                             p);
  int64_t site = adaptor.getSite();
  // Absent before the op is built (the importer checks its attributes).
  IntegerAttr microBatchAttr = adaptor.getMicroBatchAttr();
  int64_t microBatch = microBatchAttr ? microBatchAttr.getInt() : 0;
  if (site < 0 || site > INT32_MAX || microBatch < 0 || microBatch > 0xFFFF)
    return emitOptionalError(loc, "dropout: site ", site, " or micro_batch ",
                             microBatch, " out of range");
  types.push_back(adaptor.getInput().getType());
  return success();
}

// The gradient of `input * noise` is `grad * noise`, and a dropout with the
// same coordinates redraws the same noise.
SmallVector<Value> DropoutOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<DropoutOp>(getLoc(), resultGrads[0], getPAttr(),
                              getSiteAttr(), getMicroBatchAttr())};
}
