//===- NNDialect.cpp - The nn dialect -------------------------------------===//

#include "dialects/NN/IR/NNDialect.h"
#include "dialects/NN/IR/NNOps.h"
#include "dialects/NN/IR/NNShapeUtils.h" // the records' type inference

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace dpc::nn;

#include "dialects/NN/IR/NNDialect.cpp.inc"
#include "dialects/NN/IR/NNInterfaces.cpp.inc"

void NNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/NN/IR/NNOps.cpp.inc"
      >();
}

// The op classes of all families (NN<Family>Ops.td); their hand-written
// methods are in NN<Family>Ops.cpp.
#define GET_OP_CLASSES
#include "dialects/NN/IR/NNOps.cpp.inc"

bool dpc::nn::holdsOperandValues(Operation *op, bool selections) {
  return isa<ReshapeOp, TransposeOp, PermuteOp, BroadcastToOp, SliceOp, SplitOp,
             CopyOp, DetachOp, ConcatOp>(op) ||
         (selections && isa<ReluOp, MaxPool2dOp>(op));
}
