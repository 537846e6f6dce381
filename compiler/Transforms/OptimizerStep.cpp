//===- OptimizerStep.cpp - What the optimizer passes share ----------------===//

#include "compiler/Transforms/OptimizerStep.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"

using namespace mlir;
using namespace dpc;

FailureOr<TrainStepGradients> dpc::collectGradients(func::FuncOp func) {
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  llvm::StringMap<BlockArgument> params;
  for (BlockArgument arg : func.getArguments())
    if (getArgKind(func, arg.getArgNumber()) == kind::kParameter)
      params[getArgName(func, arg.getArgNumber())] = arg;

  TrainStepGradients step;
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
    StringRef k = getResultKind(func, i);
    if (k == kind::kLoss) {
      step.loss = ret.getOperand(i);
    } else if (k == kind::kGradient) {
      BlockArgument param = params.lookup(getResultName(func, i));
      if (!param) {
        func.emitError() << "gradient '" << getResultName(func, i)
                         << "' has no parameter argument";
        return failure();
      }
      step.gradients.push_back({param, ret.getOperand(i)});
    } else {
      step.others.push_back(ret.getOperand(i));
      step.otherAttrs.push_back(func.getResultAttrDict(i));
    }
  }
  if (!step.loss || step.gradients.empty()) {
    func.emitError("expected @train_step to return the loss and gradients; "
                   "run dpc-autodiff first");
    return failure();
  }

  // Gradient-ready order: the position of the op that produces each
  // gradient (block arguments first).
  llvm::DenseMap<Operation *, int64_t> positions;
  for (auto [index, op] : llvm::enumerate(func.getBody().front()))
    positions[&op] = index;
  auto readyPosition = [&](Value v) -> int64_t {
    Operation *def = v.getDefiningOp();
    return def ? positions.lookup(def) : -1;
  };
  llvm::stable_sort(step.gradients, [&](const ParameterGradient &a,
                                        const ParameterGradient &b) {
    return readyPosition(a.grad) < readyPosition(b.grad);
  });

  for (const ParameterGradient &g : step.gradients)
    step.parameters.push_back(g.param);
  llvm::sort(step.parameters, [](BlockArgument a, BlockArgument b) {
    return a.getArgNumber() < b.getArgNumber();
  });
  return step;
}

BlockArgument dpc::addOptimizerState(func::FuncOp func, BlockArgument param,
                                     StringRef suffix) {
  StringRef name = getArgName(func, param.getArgNumber());
  unsigned index = func.getNumArguments();
  func.insertArgument(index, param.getType(),
                      makeSlotAttrs(func.getContext(), kind::kOptimizerState,
                                    (name + "." + suffix).str(), name),
                      param.getLoc());
  return func.getArgument(index);
}

void dpc::setOptimizerStepResults(
    func::FuncOp func, const TrainStepGradients &step,
    const llvm::DenseMap<Value, ParameterUpdate> &updates) {
  MLIRContext *ctx = func.getContext();
  SmallVector<Value> results = {step.loss};
  SmallVector<DictionaryAttr> resultAttrs = {
      makeSlotAttrs(ctx, kind::kLoss, "loss")};
  SmallVector<Value> state;
  SmallVector<DictionaryAttr> stateAttrs;
  for (BlockArgument param : step.parameters) {
    StringRef name = getArgName(func, param.getArgNumber());
    const ParameterUpdate &update = updates.at(param);
    results.push_back(update.newParam);
    resultAttrs.push_back(makeSlotAttrs(ctx, kind::kParameter, name));
    for (const auto &[value, suffix] : update.newState) {
      state.push_back(value);
      stateAttrs.push_back(makeSlotAttrs(ctx, kind::kOptimizerState,
                                         (name + "." + suffix).str(), name));
    }
  }
  results.append(state);
  resultAttrs.append(stateAttrs);
  results.append(step.others);
  resultAttrs.append(step.otherAttrs);
  func.getBody().front().getTerminator()->setOperands(results);
  func.setFunctionType(FunctionType::get(ctx, func.getArgumentTypes(),
                                         ValueRange(results).getTypes()));
  func.setAllResultAttrs(resultAttrs);
}

FailureOr<SmallVector<Operation *>> dpc::collectUpdates(func::FuncOp func,
                                                        StringRef what) {
  SmallVector<Operation *> updates;
  for (Operation &op : func.getBody().front())
    if (isa<nn::SGDUpdateOp, nn::AdamUpdateOp>(op))
      updates.push_back(&op);
  if (updates.empty()) {
    func.emitError() << "has no optimizer update to " << what
                     << "; run dpc-sgd or dpc-adam first";
    return failure();
  }
  return updates;
}

SmallVector<Value> dpc::getUpdateGradients(ArrayRef<Operation *> updates) {
  SmallVector<Value> grads;
  for (Operation *update : updates)
    grads.push_back(update->getOperand(kUpdateGradOperand));
  return grads;
}
