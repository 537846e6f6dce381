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

/// The attributes every random op has: a probability and the coordinates
/// of its draws, which must fit their counter fields (runtime/lib/philox.h).
static LogicalResult verifyRandomCoordinates(std::optional<Location> loc,
                                             StringRef op, double p,
                                             int64_t site, int64_t microBatch) {
  if (!(p >= 0.0 && p <= 1.0))
    return emitOptionalError(loc, op, ": p must be between 0 and 1, got ", p);
  if (site < 0 || site > INT32_MAX || microBatch < 0 || microBatch > 0xFFFF)
    return emitOptionalError(loc, op, ": site ", site, " or micro_batch ",
                             microBatch, " out of range");
  return success();
}

//===----------------------------------------------------------------------===//
// dropout
//===----------------------------------------------------------------------===//

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  // Absent before the op is built (the importer checks its attributes).
  IntegerAttr microBatchAttr = adaptor.getMicroBatchAttr();
  if (failed(verifyRandomCoordinates(
          loc, "dropout", adaptor.getP().convertToDouble(), adaptor.getSite(),
          microBatchAttr ? microBatchAttr.getInt() : 0)))
    return failure();
  types.push_back(adaptor.getInput().getType());
  return success();
}

// The gradient of `input * noise` is `grad * noise`, and a dropout with the
// same coordinates redraws the same noise.
SmallVector<Value> DropoutOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<DropoutOp>(getLoc(), resultGrads[0], getPAttr(),
                              getSiteAttr(), getMicroBatchAttr())};
}

//===----------------------------------------------------------------------===//
// bernoulli
//===----------------------------------------------------------------------===//

LogicalResult BernoulliOp::verify() {
  return verifyRandomCoordinates(getLoc(), "bernoulli",
                                 getP().convertToDouble(), getSite(),
                                 getMicroBatch());
}
