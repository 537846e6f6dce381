//===- ClipGradients.cpp - torch.nn.utils.clip_grad_*_ before the updates -===//
//
// Runs after the optimizer pass (dpc-sgd, dpc-adam), on the gradients the
// updates read, which under DDP are the all-reduced averages (DDP clips
// after backward, i.e. after the all-reduce):
//   - max-norm: one nn.clip_grad_norm of every update's gradient, placed
//     right before the first update. Since it reads every averaged gradient,
//     dpc-ddp-buckets puts every bucket's wait before it, and no update
//     overlaps communication: the global norm needs all buckets.
//   - clip-value: one nn.clip_grad_value per gradient right before its
//     update, so each bucket's updates still start after its own wait.
// Without either option the pass changes nothing.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/OptimizerStep.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace dpc {
#define GEN_PASS_DEF_CLIPGRADIENTS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

struct ClipGradientsPass
    : public dpc::impl::ClipGradientsBase<ClipGradientsPass> {
  using ClipGradientsBase::ClipGradientsBase;

  void runOnOperation() override {
    if (maxNorm == 0.0 && clipValue == 0.0)
      return;
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    if (maxNorm != 0.0 && clipValue != 0.0) {
      func.emitError("clip either by norm or by value, not both");
      return signalPassFailure();
    }
    FailureOr<SmallVector<Operation *>> found =
        collectUpdates(func, "clip the gradients of");
    if (failed(found))
      return signalPassFailure();
    SmallVector<Operation *> &updates = *found;

    OpBuilder b(func.getContext());
    if (clipValue != 0.0) {
      for (Operation *update : updates) {
        b.setInsertionPoint(update);
        Value grad = update->getOperand(kUpdateGradOperand);
        auto clip = b.create<nn::ClipGradValueOp>(grad.getLoc(), grad,
                                                  b.getF64FloatAttr(clipValue));
        update->setOperand(kUpdateGradOperand, clip.getClipped());
      }
      return;
    }

    b.setInsertionPoint(updates.front());
    auto clip = b.create<nn::ClipGradNormOp>(
        func.getLoc(), getUpdateGradients(updates), b.getF64FloatAttr(maxNorm),
        b.getF64FloatAttr(normType));
    for (auto [update, clipped] : llvm::zip(updates, clip.getClipped()))
      update->setOperand(kUpdateGradOperand, clipped);
  }
};

} // namespace
