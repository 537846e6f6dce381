//===- Adam.cpp - torch.optim.Adam / AdamW as part of the training step ---===//
//
// Turns `@train_step(...) -> (loss, gradients...)` into
// `@train_step(..., moments...) -> (loss, new parameters..., new
// moments...)`, like dpc-sgd: every parameter with a gradient gets two
// optimizer-state arguments, `<param>.exp_avg` and `<param>.exp_avg_sq`
// (the names torch.optim.Adam's state uses; the runtime saves them as
// "optimizer.<param>.exp_avg" ...), and one nn.adam_update. The updates are
// placed at the end of the step in the order the (averaged) gradients
// become ready, so that dpc-ddp-buckets waits for each bucket right before
// its first update and the updates of early buckets overlap the
// communication of later ones. The step number t that the bias corrections
// need is the runtime's step counter.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace dpc {
#define GEN_PASS_DEF_ADAM
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

/// Position of the op that produces `v` (block arguments come first).
int64_t readyPosition(Value v,
                      const llvm::DenseMap<Operation *, int64_t> &positions) {
  Operation *def = v.getDefiningOp();
  return def ? positions.lookup(def) : -1;
}

struct AdamPass : public dpc::impl::AdamBase<AdamPass> {
  using AdamBase::AdamBase;

  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    // torch.optim.Adam's constructor checks.
    if (!(lr >= 0.0) || !(eps >= 0.0) || !(beta1 >= 0.0 && beta1 < 1.0) ||
        !(beta2 >= 0.0 && beta2 < 1.0) || !(weightDecay >= 0.0)) {
      func.emitError() << "invalid Adam hyper-parameters: lr=" << lr
                       << " betas=(" << beta1 << ", " << beta2
                       << ") eps=" << eps << " weight_decay=" << weightDecay
                       << " (need lr, eps, weight_decay >= 0 and betas in "
                          "[0, 1))";
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    Block &body = func.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());

    llvm::StringMap<BlockArgument> params;
    for (BlockArgument arg : func.getArguments())
      if (getArgKind(func, arg.getArgNumber()) == kind::kParameter)
        params[getArgName(func, arg.getArgNumber())] = arg;

    struct Update {
      BlockArgument param;
      Value grad;
    };
    SmallVector<Update> updates;
    Value loss;
    // Results the optimizer does not consume (e.g. updated buffers) stay.
    SmallVector<Value> others;
    SmallVector<DictionaryAttr> otherAttrs;
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
      StringRef k = getResultKind(func, i);
      if (k == kind::kLoss) {
        loss = ret.getOperand(i);
      } else if (k == kind::kGradient) {
        BlockArgument param = params.lookup(getResultName(func, i));
        if (!param) {
          func.emitError() << "gradient '" << getResultName(func, i)
                           << "' has no parameter argument";
          return signalPassFailure();
        }
        updates.push_back({param, ret.getOperand(i)});
      } else {
        others.push_back(ret.getOperand(i));
        otherAttrs.push_back(func.getResultAttrDict(i));
      }
    }
    if (!loss || updates.empty()) {
      func.emitError("expected @train_step to return the loss and gradients; "
                     "run dpc-autodiff first");
      return signalPassFailure();
    }

    llvm::DenseMap<Operation *, int64_t> positions;
    for (auto [index, op] : llvm::enumerate(body))
      positions[&op] = index;
    llvm::stable_sort(updates, [&](const Update &a, const Update &b) {
      return readyPosition(a.grad, positions) <
             readyPosition(b.grad, positions);
    });

    // The moments, as arguments in parameter order: exp_avg, exp_avg_sq of
    // the first parameter, then of the second, ...
    static constexpr StringLiteral kMoments[] = {"exp_avg", "exp_avg_sq"};
    SmallVector<BlockArgument> updatedParams;
    for (const Update &u : updates)
      updatedParams.push_back(u.param);
    llvm::sort(updatedParams, [](BlockArgument a, BlockArgument b) {
      return a.getArgNumber() < b.getArgNumber();
    });
    llvm::DenseMap<Value, std::array<Value, 2>> moments;
    for (BlockArgument param : updatedParams) {
      StringRef name = getArgName(func, param.getArgNumber());
      for (auto [i, moment] : llvm::enumerate(kMoments)) {
        unsigned index = func.getNumArguments();
        func.insertArgument(index, param.getType(),
                            makeSlotAttrs(ctx, kind::kOptimizerState,
                                          (name + "." + moment).str(), name),
                            param.getLoc());
        moments[param][i] = func.getArgument(index);
      }
    }

    // One update per parameter, in gradient-ready order.
    OpBuilder b(ret);
    llvm::DenseMap<Value, nn::AdamUpdateOp> updated;
    for (const Update &u : updates) {
      auto [expAvg, expAvgSq] = moments[u.param];
      updated[u.param] = b.create<nn::AdamUpdateOp>(
          u.grad.getLoc(), u.param, u.grad, expAvg, expAvgSq,
          b.getF64FloatAttr(lr), b.getF64FloatAttr(beta1),
          b.getF64FloatAttr(beta2), b.getF64FloatAttr(eps),
          b.getF64FloatAttr(weightDecay),
          decoupledWeightDecay ? b.getUnitAttr() : nullptr);
    }

    // Results: the loss, the updated parameters in argument order, their
    // moments in the order of the state arguments, then whatever else the
    // step returned.
    SmallVector<Value> results = {loss};
    SmallVector<DictionaryAttr> resultAttrs = {
        makeSlotAttrs(ctx, kind::kLoss, "loss")};
    SmallVector<Value> state;
    SmallVector<DictionaryAttr> stateAttrs;
    for (BlockArgument param : updatedParams) {
      StringRef name = getArgName(func, param.getArgNumber());
      nn::AdamUpdateOp update = updated[param];
      results.push_back(update.getNewParam());
      resultAttrs.push_back(makeSlotAttrs(ctx, kind::kParameter, name));
      Value newMoments[] = {update.getNewExpAvg(), update.getNewExpAvgSq()};
      for (auto [moment, value] : llvm::zip(kMoments, newMoments)) {
        state.push_back(value);
        stateAttrs.push_back(makeSlotAttrs(ctx, kind::kOptimizerState,
                                           (name + "." + moment).str(), name));
      }
    }
    results.append(state);
    resultAttrs.append(stateAttrs);
    results.append(others);
    resultAttrs.append(otherAttrs);
    ret->setOperands(results);
    func.setFunctionType(FunctionType::get(ctx, func.getArgumentTypes(),
                                           ValueRange(results).getTypes()));
    func.setAllResultAttrs(resultAttrs);
  }
};

} // namespace
