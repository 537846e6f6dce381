//===- DPDialect.cpp - The dp dialect -------------------------------------===//

#include "dialects/DP/DPDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dpc::dp;

#include "dialects/DP/DPDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/DP/DPTypes.cpp.inc"

void DPDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/DP/DPTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/DP/DPOps.cpp.inc"
      >();
}

LogicalResult AllReduceStartOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one tensor");
  if (getBucket() < 0)
    return emitOpError("bucket index must be non-negative");
  Value token = getToken();
  if (!token.hasOneUse() || !isa<WaitOp>(*token.getUsers().begin()))
    return emitOpError("token must be consumed by exactly one dp.wait");
  return success();
}

AllReduceStartOp WaitOp::getStartOp() {
  return getToken().getDefiningOp<AllReduceStartOp>();
}

LogicalResult WaitOp::verify() {
  AllReduceStartOp start = getStartOp();
  if (!start)
    return emitOpError("token must come from dp.all_reduce_start");
  if (start.getInputs().getTypes() != getResults().getTypes())
    return emitOpError("result types must match the operands of the start op");
  if (start->getBlock() != (*this)->getBlock() ||
      !start->isBeforeInBlock(*this))
    return emitOpError("must follow its start op in the same block");
  return success();
}

#define GET_OP_CLASSES
#include "dialects/DP/DPOps.cpp.inc"
