//===- DPPhases.cpp - Concurrent stages of a data-parallel step -----------===//
//
// After dpc-dp-replicate and autodiff, the ops of a --mode dp step carry
// `dp.replica = r` (replica r's forward and backward) or nothing (device 0:
// replicate, gather, loss, reduce-add, optimizer). Ops of different replicas
// are independent, so they can run at the same time, one thread per
// replica; device-0 ops run alone in between. This pass finds those
// phases: it assigns each op the earliest stage its operands allow (odd
// stages for replica ops, even stages for device-0 ops, so the two kinds
// alternate) and sorts the block by stage. For the usual step that gives
// five stages: replicate, forward, gather + loss + its gradient, backward,
// reduce-add + update.
//
// Besides data dependencies, in-place updates constrain the order: an
// optimizer update writes its parameter's storage, which the replicas read
// through their copies (views), so it must follow every earlier reader of
// that storage. Stage windows are what dpc-plan-memory and the lowering
// rely on: within an odd stage the replicas run concurrently.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace dpc {
#define GEN_PASS_DEF_DPPHASES
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

/// Where an op runs: its stage and replica (none: device 0).
struct Placement {
  int64_t stage = 0;
  std::optional<int64_t> replica;
};

/// The smallest stage >= `minimum` that holds ops of `replica`'s kind:
/// odd for replica ops, even for device-0 ops.
int64_t stageOfKind(int64_t minimum, std::optional<int64_t> replica) {
  bool parallel = replica.has_value();
  return (minimum % 2 == 1) == parallel ? minimum : minimum + 1;
}

/// The earliest stage an op of `replica` may take after `dep`: the same
/// stage when both run on the same replica or both on device 0, else a
/// later one.
int64_t earliestAfter(const Placement &dep, std::optional<int64_t> replica) {
  return dep.replica == replica ? dep.stage : dep.stage + 1;
}

struct DPPhasesPass : public dpc::impl::DPPhasesBase<DPPhasesPass> {
  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    Block &body = func.getBody().front();

    llvm::DenseMap<Operation *, Placement> placement;
    // Every op that read a storage owner so far, through any of its views.
    llvm::DenseMap<Value, SmallVector<Operation *>> readers;
    for (Operation &op : body.without_terminator()) {
      std::optional<int64_t> replica = dp::getReplica(&op);
      int64_t minimum = 0;
      for (Value operand : op.getOperands())
        if (Operation *def = operand.getDefiningOp())
          minimum = std::max(minimum, earliestAfter(placement[def], replica));
      // An in-place update follows the earlier readers of what it writes.
      if (!isStorageView(&op))
        for (Value result : op.getResults()) {
          Value owner = getStorageOwner(result);
          if (owner == result)
            continue;
          for (Operation *reader : readers.lookup(owner))
            if (reader != &op)
              minimum =
                  std::max(minimum, earliestAfter(placement[reader], replica));
        }
      placement[&op] = {stageOfKind(minimum, replica), replica};
      for (Value operand : op.getOperands())
        readers[getStorageOwner(operand)].push_back(&op);
    }

    // Stable sort by stage; the terminator stays last.
    SmallVector<Operation *> order;
    for (Operation &op : body.without_terminator())
      order.push_back(&op);
    llvm::stable_sort(order, [&](Operation *a, Operation *b) {
      return placement[a].stage < placement[b].stage;
    });
    Builder builder(&getContext());
    Operation *terminator = body.getTerminator();
    for (Operation *op : order) {
      op->moveBefore(terminator);
      op->setAttr(dp::kStageAttrName,
                  builder.getI64IntegerAttr(placement[op].stage));
    }
  }
};

} // namespace
