//===- GradScaler.cpp - GradScaler's unscale_ before the updates
//-----------===//
//
// torch.amp.GradScaler's recipe around the optimizer step:
//
//   scaler.scale(loss).backward()   dpc-autodiff's loss-scale: the backward
//                                   pass is seeded with nn.loss_scale
//   scaler.unscale_(optimizer)      this pass: one nn.unscale_grads of every
//                                   update's gradient, right before the
//                                   first update (under DDP after the
//                                   all-reduce, which averages the scaled
//                                   gradients as DDP does)
//   clip_grad_norm_(...)            dpc-clip-gradients, after this pass
//   scaler.step(optimizer)          the runtime skips every update of a step
//   scaler.update()                 whose gradients had an inf or NaN, and
//                                   updates the scale after the step
//
// Like a global clip, the unscale reads every averaged gradient, so
// dpc-ddp-buckets places every bucket's wait before it: the updates no
// longer overlap communication. PyTorch's scaler.step waits for all of
// them too (it reads found_inf on the host).
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/OptimizerStep.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

namespace dpc {
#define GEN_PASS_DEF_GRADSCALER
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

struct GradScalerPass : public dpc::impl::GradScalerBase<GradScalerPass> {
  using GradScalerBase::GradScalerBase;

  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    FailureOr<SmallVector<Operation *>> updates =
        collectUpdates(func, "unscale the gradients of");
    if (failed(updates))
      return signalPassFailure();
    if (func.getBody().getOps<nn::LossScaleOp>().empty()) {
      func.emitError("has no loss scale seeding its backward pass; run "
                     "dpc-autodiff with loss-scale");
      return signalPassFailure();
    }

    OpBuilder b(updates->front());
    auto unscale = b.create<nn::UnscaleGradsOp>(
        func.getLoc(), getUpdateGradients(*updates),
        b.getF64FloatAttr(initScale), b.getF64FloatAttr(growthFactor),
        b.getF64FloatAttr(backoffFactor), b.getI64IntegerAttr(growthInterval));
    if (failed(mlir::verify(unscale)))
      return signalPassFailure();
    for (auto [update, unscaled] : llvm::zip(*updates, unscale.getUnscaled()))
      update->setOperand(kUpdateGradOperand, unscaled);
  }
};

} // namespace
