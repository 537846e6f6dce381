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
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace dpc {
#define GEN_PASS_DEF_SGD
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

/// Position of the op that produces `v` (block arguments come first).
static int64_t readyPosition(Value v,
                             llvm::DenseMap<Operation *, int64_t> &positions) {
  Operation *def = v.getDefiningOp();
  return def ? positions.lookup(def) : -1;
}

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
    // Results the optimizer does not consume (updated buffers) stay last.
    SmallVector<Value> others;
    SmallVector<DictionaryAttr> otherAttrs;
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
      StringRef k = getResultKind(func, i);
      if (k == kind::kLoss) {
        loss = ret.getOperand(i);
      } else if (k != kind::kGradient) {
        others.push_back(ret.getOperand(i));
        otherAttrs.push_back(func.getResultAttrDict(i));
      } else {
        BlockArgument param = params.lookup(getResultName(func, i));
        if (!param) {
          func.emitError() << "gradient '" << getResultName(func, i)
                           << "' has no parameter argument";
          return signalPassFailure();
        }
        updates.push_back({param, ret.getOperand(i)});
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

    // Momentum buffers, as arguments in parameter order.
    llvm::DenseMap<Value, Value> buffers;
    if (momentum != 0.0) {
      SmallVector<BlockArgument> updatedParams;
      for (const Update &u : updates)
        updatedParams.push_back(u.param);
      llvm::sort(updatedParams, [](BlockArgument a, BlockArgument b) {
        return a.getArgNumber() < b.getArgNumber();
      });
      for (BlockArgument param : updatedParams) {
        StringRef name = getArgName(func, param.getArgNumber());
        unsigned index = func.getNumArguments();
        func.insertArgument(index, param.getType(),
                            makeSlotAttrs(ctx, kind::kOptimizerState,
                                          (name + ".momentum_buffer").str(),
                                          name),
                            param.getLoc());
        buffers[param] = func.getArgument(index);
      }
    }

    // One update per parameter, in gradient-ready order.
    OpBuilder b(ret);
    llvm::DenseMap<Value, std::pair<Value, Value>> updated; // param -> (p, buf)
    for (const Update &u : updates) {
      Value buffer = buffers.lookup(u.param);
      auto update = b.create<nn::SGDUpdateOp>(
          u.grad.getLoc(), u.param, u.grad, buffer, b.getF32FloatAttr(lr),
          b.getF32FloatAttr(momentum), b.getF32FloatAttr(dampening),
          b.getF32FloatAttr(weightDecay), nesterov ? b.getUnitAttr() : nullptr);
      updated[u.param] = {update.getNewParam(), update.getNewMomentumBuffer()};
    }

    // Results: the loss, then updated parameters and buffers in argument
    // order.
    SmallVector<Value> results = {loss};
    SmallVector<DictionaryAttr> resultAttrs = {
        makeSlotAttrs(ctx, kind::kLoss, "loss")};
    SmallVector<Value> newBuffers;
    SmallVector<DictionaryAttr> bufferAttrs;
    for (BlockArgument arg : func.getArguments()) {
      auto it = updated.find(arg);
      if (it == updated.end())
        continue;
      StringRef name = getArgName(func, arg.getArgNumber());
      results.push_back(it->second.first);
      resultAttrs.push_back(makeSlotAttrs(ctx, kind::kParameter, name));
      if (Value buf = it->second.second) {
        newBuffers.push_back(buf);
        bufferAttrs.push_back(makeSlotAttrs(ctx, kind::kOptimizerState,
                                            (name + ".momentum_buffer").str(),
                                            name));
      }
    }
    results.append(newBuffers);
    resultAttrs.append(bufferAttrs);
    results.append(others);
    resultAttrs.append(otherAttrs);
    ret->setOperands(results);
    func.setFunctionType(FunctionType::get(ctx, func.getArgumentTypes(),
                                           ValueRange(results).getTypes()));
    func.setAllResultAttrs(resultAttrs);
  }
};

} // namespace
