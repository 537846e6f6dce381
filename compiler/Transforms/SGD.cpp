//===- SGD.cpp - torch.optim.SGD as part of the training step -------------===//
//
// Turns `@train_step(...) -> (loss, gradients..., buffers...)` into
// `@train_step(..., momentum buffers...) -> (loss, new parameters...,
// new momentum buffers..., buffers...)`. The update of each parameter is an
// nn.sgd_update placed at the end of the step, in the order the (averaged)
// gradients become ready; lowering performs it in place.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/OptimizerStep.h"
#include "compiler/Transforms/ParamGroups.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace dpc {
#define GEN_PASS_DEF_SGD
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

struct SGDPass : public dpc::impl::SGDBase<SGDPass> {
  using SGDBase::SGDBase;

  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    if (lr <= 0.0 || momentum < 0.0 || weightDecay < 0.0) {
      func.emitError() << "invalid SGD hyper-parameters: lr=" << lr
                       << " momentum=" << momentum
                       << " weight_decay=" << weightDecay;
      return signalPassFailure();
    }
    if (nesterov && (momentum == 0.0 || dampening != 0.0)) {
      func.emitError("nesterov momentum requires a momentum and zero "
                     "dampening (as torch.optim.SGD)");
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

    // Momentum buffers, as arguments in parameter order.
    llvm::DenseMap<Value, Value> buffers;
    if (momentum != 0.0)
      for (BlockArgument param : step->parameters)
        buffers[param] = addOptimizerState(func, param, "momentum_buffer");

    // One update per parameter, in gradient-ready order.
    OpBuilder b(func.getBody().front().getTerminator());
    llvm::DenseMap<Value, ParameterUpdate> updates;
    for (const ParameterGradient &g : step->gradients) {
      Value buffer = buffers.lookup(g.param);
      unsigned group =
          groups->groupOf(getArgName(func, g.param.getArgNumber()));
      const ParamGroup &hyper = groups->groups()[group];
      auto update = b.create<nn::SGDUpdateOp>(
          g.grad.getLoc(), g.param, g.grad, buffer,
          nn::floatAttrFor(g.param.getType(), hyper.lr),
          nn::floatAttrFor(g.param.getType(), momentum),
          nn::floatAttrFor(g.param.getType(), dampening),
          nn::floatAttrFor(g.param.getType(), hyper.weightDecay),
          nesterov ? b.getUnitAttr() : nullptr, b.getI32IntegerAttr(group));
      ParameterUpdate &u = updates[g.param];
      u.newParam = update.getNewParam();
      if (buffer)
        u.newState.push_back(
            {update.getNewMomentumBuffer(), "momentum_buffer"});
    }
    setOptimizerStepResults(func, *step, updates);
  }
};

} // namespace
