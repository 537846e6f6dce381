//===- DDPAllReduce.cpp - Average gradients over ranks --------------------===//
//
// DistributedDataParallel's semantics in one pass: every gradient that the
// step returns is replaced by its mean over the ranks. The all-reduce is
// placed right after the gradient's final value is computed, the earliest
// point it could start; dpc-ddp-buckets turns these into bucketed
// asynchronous collectives.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace dpc {
#define GEN_PASS_DEF_DDPALLREDUCE
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

struct DDPAllReducePass : public dpc::impl::DDPAllReduceBase<DDPAllReducePass> {
  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    bool sawGradient = false;
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
      if (getResultKind(func, i) != kind::kGradient)
        continue;
      sawGradient = true;
      Value grad = ret.getOperand(i);
      OpBuilder b(ret);
      if (Operation *def = grad.getDefiningOp())
        b.setInsertionPointAfter(def);
      else
        b.setInsertionPointToStart(&func.getBody().front());
      ret.setOperand(i, b.create<dp::AllReduceOp>(grad.getLoc(), grad));
    }
    if (!sawGradient) {
      func.emitError("@train_step returns no gradients; run dpc-autodiff "
                     "first");
      signalPassFailure();
    }
  }
};

} // namespace
