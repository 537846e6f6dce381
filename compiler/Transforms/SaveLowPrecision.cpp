//===- SaveLowPrecision.cpp - 16-bit activations between fwd and bwd ------===//
//
// Under torch.autocast a linear's or a convolution's result is a bfloat16
// (float16) tensor, and so are the ops that follow it on that type; what
// the backward pass reads of them, PyTorch keeps in 16 bits. dpc computes
// on float32 tensors that hold those values (compiler/Import/Autocast.cpp:
// the results of nn.round_bf16 / nn.round_f16), so without this pass it
// keeps twice the bytes alive from the forward to the backward pass.
//
// This pass runs right after dpc-autodiff, where @train_step is one
// forward pass, the loss, and the backward pass after it. A value is
// "16-bit exact" when it is the result of the rounding op of the autocast
// type, or of data movement or selection of such values only
// (LowPrecisionValues.h). Every 16-bit exact value of the forward pass that
// a backward op reads gets
//
//   %p = nn.pack_saved %x          after the last forward op that reads %x
//   %u = nn.unpack_saved %p        before the first backward op that does
//
// and the backward ops read %u. Both conversions are exact (round to
// nearest even of a value that is already 16-bit), so the step computes
// the same numbers bit for bit; dpc-plan-memory sees %x die at the end of
// the forward pass and %p (half its bytes) live in its place. This is what
// torch.autograd.graph.saved_tensors_hooks would do with a pack hook of
// `.to(torch.bfloat16)`, and what autocast does by construction.
//
// Gradient accumulation (dpc-accumulate) runs after this pass and clones
// the packs with each micro-batch's forward and backward pass.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/LowPrecisionValues.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

namespace dpc {
#define GEN_PASS_DEF_SAVELOWPRECISION
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

struct SaveLowPrecisionPass
    : public dpc::impl::SaveLowPrecisionBase<SaveLowPrecisionPass> {
  using SaveLowPrecisionBase::SaveLowPrecisionBase;

  void runOnOperation() override {
    if (storage != "bf16" && storage != "fp16") {
      getOperation().emitError("dpc-save-low-precision: storage '" + storage +
                               "' is not bf16 or fp16");
      return signalPassFailure();
    }
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    Block &body = func.getBody().front();
    // The loss is result 0 (compiler/TrainStep/TrainStep.h).
    Operation *ret = body.getTerminator();
    Operation *lossOp =
        ret->getNumOperands() ? ret->getOperand(0).getDefiningOp() : nullptr;
    if (!lossOp)
      return; // the loss is an argument: no forward pass to save from

    llvm::DenseMap<Operation *, int64_t> position;
    for (auto [i, op] : llvm::enumerate(body))
      position[&op] = i;
    int64_t lossPosition = position[lossOp];

    Type storageType = storage == "bf16"
                           ? Type(BFloat16Type::get(&getContext()))
                           : Type(Float16Type::get(&getContext()));
    auto isRounding = [&](Operation *op) {
      return storage == "bf16" ? isa<nn::RoundToBF16Op>(op)
                               : isa<nn::RoundToF16Op>(op);
    };

    // The 16-bit values of the forward pass, in program order.
    auto forward = llvm::make_range(body.begin(), Block::iterator(lossOp));
    llvm::DenseSet<Value> exact = findLowPrecisionValues(forward, isRounding);
    SmallVector<Value> candidates;
    for (Operation &op : forward)
      for (Value result : op.getResults())
        if (exact.contains(result) &&
            getTensorBytes(result.getType()) >= minBytes)
          candidates.push_back(result);

    for (Value value : candidates) {
      Operation *lastForward = value.getDefiningOp();
      Operation *firstBackward = nullptr;
      SmallVector<OpOperand *> backwardUses;
      for (OpOperand &use : value.getUses()) {
        Operation *user = use.getOwner();
        if (position.lookup(user) > lossPosition) {
          backwardUses.push_back(&use);
          if (!firstBackward || position[user] < position[firstBackward])
            firstBackward = user;
        } else if (position.lookup(user) > position[lastForward]) {
          lastForward = user;
        }
      }
      // Nothing runs between the two: no memory to save.
      if (backwardUses.empty() ||
          position[firstBackward] == position[lastForward] + 1)
        continue;
      auto tensorType = cast<RankedTensorType>(value.getType());
      OpBuilder b(lastForward->getContext());
      b.setInsertionPointAfter(lastForward);
      Value packed = b.create<nn::PackSavedOp>(
          value.getLoc(), tensorType.clone(storageType), value);
      b.setInsertionPoint(firstBackward);
      Value unpacked =
          b.create<nn::UnpackSavedOp>(value.getLoc(), tensorType, packed);
      for (OpOperand *use : backwardUses)
        use->set(unpacked);
    }
  }
};

} // namespace
