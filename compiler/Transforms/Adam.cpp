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
#include "compiler/Transforms/OptimizerStep.h"
#include "compiler/Transforms/ParamGroups.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace dpc {
#define GEN_PASS_DEF_ADAM
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

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
    std::string error;
    std::optional<ParamGroups> groups =
        ParamGroups::parse(paramGroups, lr, weightDecay, error);
    if (!groups) {
      func.emitError(error);
      return signalPassFailure();
    }
    FailureOr<TrainStepGradients> step = collectGradients(func);
    if (failed(step))
      return signalPassFailure();
    if (runtimeLr)
      groups->attachTo(func);

    // The moments, as arguments in parameter order: exp_avg, exp_avg_sq of
    // the first parameter, then of the second, ...
    static constexpr StringLiteral kMoments[] = {"exp_avg", "exp_avg_sq"};
    llvm::DenseMap<Value, std::array<Value, 2>> moments;
    for (BlockArgument param : step->parameters)
      for (auto [i, moment] : llvm::enumerate(kMoments))
        moments[param][i] = addOptimizerState(func, param, moment);

    // One update per parameter, in gradient-ready order.
    OpBuilder b(func.getBody().front().getTerminator());
    llvm::DenseMap<Value, ParameterUpdate> updates;
    for (const ParameterGradient &g : step->gradients) {
      auto [expAvg, expAvgSq] = moments[g.param];
      unsigned group =
          groups->groupOf(getArgName(func, g.param.getArgNumber()));
      const ParamGroup &hyper = groups->groups()[group];
      auto update = b.create<nn::AdamUpdateOp>(
          g.grad.getLoc(), g.param, g.grad, expAvg, expAvgSq,
          b.getF64FloatAttr(hyper.lr), b.getF64FloatAttr(beta1),
          b.getF64FloatAttr(beta2), b.getF64FloatAttr(eps),
          b.getF64FloatAttr(hyper.weightDecay),
          decoupledWeightDecay ? b.getUnitAttr() : nullptr,
          b.getI32IntegerAttr(group));
      updates[g.param] = {update.getNewParam(),
                          {{update.getNewExpAvg(), kMoments[0].str()},
                           {update.getNewExpAvgSq(), kMoments[1].str()}}};
    }
    setOptimizerStepResults(func, *step, updates);
  }
};

} // namespace
