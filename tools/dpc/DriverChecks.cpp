//===- DriverChecks.cpp - What dpc refuses that dpc-run would -------------===//

#include "DriverChecks.h"

#include "compiler/TrainStep/TrainStep.h"

#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/Twine.h"

using namespace mlir;

namespace {

/// The runtime's bound on a tensor's element count (manifest.cpp).
constexpr int64_t kMaxElements = int64_t(1) << 56;

} // namespace

llvm::Error dpc::checkTensorSpecs(llvm::ArrayRef<TensorSpec> inputs,
                                  const std::optional<TensorSpec> &label,
                                  int64_t worldSize, int64_t microBatches) {
  if (worldSize > kMaxWorldSize)
    return llvm::createStringError(
        "--world-size " + llvm::Twine(worldSize) + " is larger than " +
        llvm::Twine(kMaxWorldSize) + " ranks (a typo?)");
  llvm::StringSet<> names;
  auto check = [&](const TensorSpec &spec,
                   llvm::StringRef flag) -> llvm::Error {
    if (!names.insert(spec.name).second)
      return llvm::createStringError(
          "--" + flag + " '" + spec.name + "': the name '" + spec.name +
          "' is already an --input (dpc-run's --data tells them apart by "
          "name)");
    // Elements of one step on one rank, then of the global batch.
    int64_t count = microBatches;
    for (int64_t dim : spec.shape) {
      if (count > kMaxElements / dim)
        return llvm::createStringError(
            "--" + flag + " '" + spec.name +
            "': the shape has more than 2^56 "
            "elements per step, more than the runtime can address");
      count *= dim;
    }
    if (count >
        kMaxElements / worldSize / static_cast<int64_t>(dtypeSize(spec.dtype)))
      return llvm::createStringError(
          "--" + flag + " '" + spec.name + "': " + llvm::Twine(worldSize) +
          " ranks read more than 2^56 bytes of it per step");
    return llvm::Error::success();
  };
  for (const TensorSpec &input : inputs)
    if (llvm::Error err = check(input, "input"))
      return err;
  if (label)
    return check(*label, "label");
  return llvm::Error::success();
}

llvm::Error dpc::checkSomethingToTrain(func::FuncOp trainStep) {
  int parameters = 0, unused = 0;
  for (BlockArgument arg : trainStep.getArguments())
    if (getArgKind(trainStep, arg.getArgNumber()) == kind::kParameter) {
      ++parameters;
      unused +=
          trainStep.getArgAttr(arg.getArgNumber(), kUnusedAttr) != nullptr;
    }
  if (parameters == 0)
    return llvm::createStringError(
        "the model has no trainable parameters (parameters with "
        "requires_grad=True): there is nothing to train");
  if (unused == parameters)
    return llvm::createStringError(
        "none of the model's " + llvm::Twine(parameters) +
        " trainable parameters affects the loss: there is nothing to train");
  return llvm::Error::success();
}

namespace {

struct CheckSomethingToTrainPass
    : public PassWrapper<CheckSomethingToTrainPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CheckSomethingToTrainPass)

  llvm::StringRef getArgument() const final {
    return "dpc-check-something-to-train";
  }
  llvm::StringRef getDescription() const final {
    return "Refuses a @train_step that updates no parameter";
  }

  void runOnOperation() override {
    auto trainStep =
        getOperation().lookupSymbol<func::FuncOp>(dpc::kTrainStepFuncName);
    // Without @train_step the train-step stage has failed already.
    if (!trainStep)
      return;
    if (llvm::Error err = dpc::checkSomethingToTrain(trainStep)) {
      // No location: the finding is about the whole model.
      emitError(UnknownLoc::get(&getContext()))
          << llvm::toString(std::move(err));
      signalPassFailure();
    }
  }
};

} // namespace

std::unique_ptr<Pass> dpc::createCheckSomethingToTrainPass() {
  return std::make_unique<CheckSomethingToTrainPass>();
}
