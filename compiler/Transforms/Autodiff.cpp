//===- Autodiff.cpp - Reverse-mode autodiff of the training step ----------===//
//
// Classic reverse-mode AD on a straight-line SSA function: seed d loss = 1,
// visit the ops that depend on a parameter in reverse order, and ask each for
// its vector-Jacobian product. Gradients of a value used several times are
// summed (nn.add), which is how a tied weight gets a single gradient.
// Values that no parameter influences (inputs, labels, their functions) get
// no gradient at all, so no work is spent on them; nor do detached values
// (nn.detach: x.detach(), results computed under torch.no_grad()).
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Sequence.h"

namespace dpc {
#define GEN_PASS_DEF_AUTODIFF
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

struct AutodiffPass : public dpc::impl::AutodiffBase<AutodiffPass> {
  using AutodiffBase::AutodiffBase;

  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func || failed(differentiate(func)))
      return signalPassFailure();
    // --precision bf16|fp16: the roundings of 16-bit operands have given
    // their VJPs (gradient roundings); in the forward they are the identity.
    // (@eval_step is optional: dpc --eval-step=false has none.)
    for (func::FuncOp step :
         {func, getOperation().lookupSymbol<func::FuncOp>(kEvalStepFuncName)})
      if (step)
        step.walk([](Operation *round) {
          if (round->hasAttr(kAutocastOperandAttr)) {
            round->getResult(0).replaceAllUsesWith(round->getOperand(0));
            round->erase();
          }
        });
  }

  LogicalResult differentiate(func::FuncOp func) {
    MLIRContext *ctx = &getContext();
    Block &body = func.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    // The loss, then updated buffers (TrainStep.h).
    bool onlyBuffers =
        llvm::all_of(llvm::seq(1u, func.getNumResults()), [&](unsigned i) {
          return getResultKind(func, i) == kind::kBuffer;
        });
    if (ret.getNumOperands() < 1 || getResultKind(func, 0) != kind::kLoss ||
        !onlyBuffers)
      return func.emitError("expected @train_step to return only the loss; "
                            "run dpc-build-train-step first");

    // Forward activity: which values depend on a parameter.
    llvm::DenseSet<Value> active;
    for (BlockArgument arg : func.getArguments())
      if (getArgKind(func, arg.getArgNumber()) == kind::kParameter)
        active.insert(arg);
    SmallVector<Operation *> forwardOps;
    for (Operation &op : body.without_terminator()) {
      forwardOps.push_back(&op);
      // x.detach() and what no_grad computed: the gradient stops there.
      if (isa<nn::DetachOp>(op))
        continue;
      if (llvm::any_of(op.getOperands(),
                       [&](Value v) { return active.contains(v); }))
        active.insert(op.result_begin(), op.result_end());
    }

    OpBuilder b(ret);
    Value loss = ret.getOperand(0);
    llvm::DenseMap<Value, Value> grads;
    // scaler.scale(loss).backward() seeds with the loss scale.
    grads[loss] =
        lossScale
            ? Value(b.create<nn::LossScaleOp>(func.getLoc(), loss.getType()))
            : Value(
                  b.create<nn::FillOp>(func.getLoc(), loss.getType(),
                                       nn::floatAttrFor(loss.getType(), 1.0)));

    for (Operation *op : llvm::reverse(forwardOps)) {
      if (!llvm::any_of(op->getResults(),
                        [&](Value r) { return grads.count(r); }) ||
          !llvm::any_of(op->getOperands(),
                        [&](Value v) { return active.contains(v); }))
        continue;
      auto vjp = dyn_cast<nn::VJPOpInterface>(op);
      if (!vjp)
        return op->emitError()
               << "cannot differentiate through '" << op->getName() << "'";
      // Results nothing depends on (e.g. updated running statistics) have
      // no gradient: the VJP sees a null value for them.
      SmallVector<Value> resultGrads;
      for (Value r : op->getResults())
        resultGrads.push_back(grads.lookup(r));
      Operation *lastBefore = ret->getPrevNode();
      SmallVector<Value> operandGrads = vjp.buildVJP(b, resultGrads);
      // --mode dp: the backward of an op runs on the replica that ran it
      // forward (ops the VJP placed itself keep their replica), and so does
      // a sum of gradients that all come from that replica; sums across
      // replicas stay on device 0.
      std::optional<int64_t> replica = dp::getReplica(op);
      if (replica)
        for (Operation *o = lastBefore->getNextNode(); o != ret;
             o = o->getNextNode())
          if (!dp::getReplica(o))
            dp::setReplica(o, *replica);
      auto onReplica = [&](Value v) {
        Operation *def = v.getDefiningOp();
        return def && dp::getReplica(def) == replica;
      };
      for (auto [operand, grad] : llvm::zip(op->getOperands(), operandGrads)) {
        if (!grad || !active.contains(operand))
          continue;
        Value &acc = grads[operand];
        if (!acc) {
          acc = grad;
          continue;
        }
        auto add = b.create<nn::AddOp>(op->getLoc(), acc, grad,
                                       nn::floatAttrFor(acc.getType(), 1.0));
        if (replica && onReplica(acc) && onReplica(grad))
          dp::setReplica(add, *replica);
        acc = add;
      }
    }

    // Return the loss and one gradient per used parameter.
    SmallVector<Value> results = {loss};
    SmallVector<Type> resultTypes = {loss.getType()};
    SmallVector<DictionaryAttr> resultAttrs = {func.getResultAttrDict(0)};
    for (BlockArgument arg : func.getArguments()) {
      unsigned i = arg.getArgNumber();
      if (getArgKind(func, i) != kind::kParameter)
        continue;
      Value grad = grads.lookup(arg);
      if (!grad) {
        func.setArgAttr(i, kUnusedAttr, UnitAttr::get(ctx));
        continue;
      }
      StringRef name = getArgName(func, i);
      results.push_back(grad);
      resultTypes.push_back(grad.getType());
      resultAttrs.push_back(makeSlotAttrs(ctx, kind::kGradient, name, name));
    }
    // The updated buffers stay last.
    for (unsigned i = 1, e = func.getNumResults(); i < e; ++i) {
      results.push_back(ret.getOperand(i));
      resultTypes.push_back(ret.getOperand(i).getType());
      resultAttrs.push_back(func.getResultAttrDict(i));
    }
    ret->setOperands(results);
    func.setFunctionType(
        FunctionType::get(ctx, func.getArgumentTypes(), resultTypes));
    func.setAllResultAttrs(resultAttrs);

    // --precision bf16|fp16: an op whose result PyTorch computes in 16 bits
    // saves that 16-bit tensor for its backward (tanh's, softmax's, exp's
    // result), so its VJP reads the rounded value, not the float32 one
    // before rounding, which only the rounding itself reads.
    func.walk([](Operation *round) {
      if (round->hasAttr(kAutocastResultAttr))
        round->getOperand(0).replaceAllUsesExcept(round->getResult(0), round);
    });

    // A VJP builds the gradients of all its operands; those of inactive
    // operands (inputs, labels) are unused: erase them, newest first.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (&op != ret && isOpTriviallyDead(&op))
        op.erase();
    warnUnusedParameters(func);
    return success();
  }

  /// An unused parameter is most likely a mistake in the model (a layer
  /// left out of forward), so it is reported, as a warning without a
  /// location in the model: the parameter has none. When no parameter
  /// affects the loss there is nothing to train, which dpc reports as one
  /// error (tools/dpc/DriverChecks.h) instead of a warning per parameter.
  void warnUnusedParameters(func::FuncOp func) {
    auto isUnused = [&](BlockArgument arg) {
      return func.getArgAttr(arg.getArgNumber(), kUnusedAttr) != nullptr;
    };
    auto isParameter = [&](BlockArgument arg) {
      return getArgKind(func, arg.getArgNumber()) == kind::kParameter;
    };
    if (llvm::all_of(llvm::make_filter_range(func.getArguments(), isParameter),
                     isUnused))
      return;
    // --mode dp sums the replicas' gradients instead of all-reducing them.
    bool dataParallel = !func.getBody().getOps<dp::ReplicateOp>().empty();
    for (BlockArgument arg : func.getArguments())
      if (isUnused(arg))
        emitWarning(UnknownLoc::get(&getContext()))
            << "parameter '" << getArgName(func, arg.getArgNumber())
            << "' does not affect the loss; it is neither updated nor "
            << (dataParallel ? "reduce-added" : "all-reduced");
  }
};

} // namespace
