//===- NNDialect.cpp - The nn dialect -------------------------------------===//

#include "dialects/NN/NNDialect.h"
#include "dialects/NN/NNOps.h"

using namespace mlir;
using namespace dpc::nn;

#include "dialects/NN/NNDialect.cpp.inc"
#include "dialects/NN/NNInterfaces.cpp.inc"

void NNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/NN/NNOps.cpp.inc"
      >();
}
