//===- TrainStep.cpp - Conventions of the @train_step function ------------===//

#include "compiler/TrainStep/TrainStep.h"

#include "dialects/DP/IR/DPDialect.h"
#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

static StringRef getString(DictionaryAttr attrs, StringRef name) {
  if (!attrs)
    return {};
  if (auto str = attrs.getAs<StringAttr>(name))
    return str.getValue();
  return {};
}

StringRef dpc::getArgKind(func::FuncOp func, unsigned i) {
  return getString(func.getArgAttrDict(i), kKindAttr);
}
StringRef dpc::getResultKind(func::FuncOp func, unsigned i) {
  return getString(func.getResultAttrDict(i), kKindAttr);
}
StringRef dpc::getArgName(func::FuncOp func, unsigned i) {
  return getString(func.getArgAttrDict(i), kNameAttr);
}
StringRef dpc::getResultName(func::FuncOp func, unsigned i) {
  return getString(func.getResultAttrDict(i), kNameAttr);
}

DictionaryAttr dpc::makeSlotAttrs(MLIRContext *ctx, StringRef kind,
                                  StringRef name, StringRef parameter) {
  Builder b(ctx);
  SmallVector<NamedAttribute> attrs = {b.getNamedAttr(kKindAttr, b.getStringAttr(kind)),
                                       b.getNamedAttr(kNameAttr, b.getStringAttr(name))};
  if (!parameter.empty())
    attrs.push_back(b.getNamedAttr(kParameterAttr, b.getStringAttr(parameter)));
  return b.getDictionaryAttr(attrs);
}

func::FuncOp dpc::lookupFunction(ModuleOp module, StringRef name) {
  auto func = module.lookupSymbol<func::FuncOp>(name);
  if (!func) {
    module.emitError() << "expected a function @" << name;
    return nullptr;
  }
  if (!func.getBody().hasOneBlock()) {
    func.emitError() << "expected @" << name << " to have a single block";
    return nullptr;
  }
  return func;
}

bool dpc::isStorageView(Operation *op) {
  return isa<nn::ReshapeOp, dp::ScatterOp, dp::ReplicateOp>(op);
}

int64_t dpc::getTensorBytes(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return tensor.getNumElements() *
         (tensor.getElementType().getIntOrFloatBitWidth() / 8);
}

Value dpc::getStorageOwner(Value v) {
  auto result = dyn_cast<OpResult>(v);
  if (!result)
    return v;
  Operation *op = result.getOwner();
  if (auto update = dyn_cast<nn::SGDUpdateOp>(op))
    return result.getResultNumber() == 0 ? update.getParam()
                                         : update.getMomentumBuffer();
  if (auto wait = dyn_cast<dp::WaitOp>(op))
    return getStorageOwner(
        wait.getStartOp().getInputs()[result.getResultNumber()]);
  if (auto reshape = dyn_cast<nn::ReshapeOp>(op))
    return getStorageOwner(reshape.getInput());
  // New running statistics and counters are written over the old ones.
  if (auto bn = dyn_cast<nn::BatchNormOp>(op)) {
    if (result == bn.getNewRunningMean())
      return getStorageOwner(bn.getRunningMean());
    if (result == bn.getNewRunningVar())
      return getStorageOwner(bn.getRunningVar());
    return v;
  }
  if (auto increment = dyn_cast<nn::IncrementOp>(op))
    return getStorageOwner(increment.getInput());
  // On the CPU backend a replica's chunk and parameter copies are views.
  if (auto scatter = dyn_cast<dp::ScatterOp>(op))
    return getStorageOwner(scatter.getInput());
  if (auto replicate = dyn_cast<dp::ReplicateOp>(op))
    return replicate.getCopies() && result.getResultNumber() > 0
               ? v
               : getStorageOwner(replicate.getInput());
  if (auto update = dyn_cast<nn::AdamUpdateOp>(op)) {
    Value owners[] = {update.getParam(), update.getExpAvg(),
                      update.getExpAvgSq()};
    return owners[result.getResultNumber()];
  }
  if (auto view = dyn_cast<nn::MicroBatchOp>(op))
    return getStorageOwner(view.getInput());
  return v;
}
