//===- LowerOptimizerOps.cpp - optimizer updates beyond SGD ---===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
//
//===----------------------------------------------------------------------===//

#include "dialects/NN/NNOps.h"
#include "passes/RuntimeCallBuilder.h"
#include "passes/TrainStep.h"
#include "runtime/include/dpc/abi.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dpc;

std::optional<LogicalResult> dpc::lowerOptimizerOp(RuntimeCallBuilder &rt,
                                                   Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<LogicalResult>>(op)
      .Default([](Operation *) { return std::nullopt; });
}
