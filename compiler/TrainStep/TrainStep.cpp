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
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr(kKindAttr, b.getStringAttr(kind)),
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
  auto alias = dyn_cast<nn::StorageAliasOpInterface>(op);
  return alias && alias.isStorageView();
}

Value dpc::getStorageOwner(Value v) {
  auto result = dyn_cast<OpResult>(v);
  if (!result)
    return v;
  auto alias = dyn_cast<nn::StorageAliasOpInterface>(result.getOwner());
  if (!alias)
    return v;
  Value aliased = alias.getAliasedValue(result.getResultNumber());
  return aliased ? getStorageOwner(aliased) : v;
}

int64_t dpc::getTensorBytes(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return tensor.getNumElements() *
         (tensor.getElementType().getIntOrFloatBitWidth() / 8);
}
