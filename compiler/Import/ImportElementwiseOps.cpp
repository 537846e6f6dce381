//===- ImportElementwiseOps.cpp - Elementwise: aten ops to nn ops ---------===//
//
// add/sub (with alpha), mul (tensor or scalar), neg, div, the comparisons,
// masked_fill and gelu by hand; the unary ops
// (ElementwiseUnaryOpInterface: relu, tanh, sigmoid, exp, ...) from their
// records.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"

#include <cmath>
#include <sstream>

using namespace mlir;
using namespace dpc;

namespace {

NamedAttribute factorAttr(OpBuilder &b, double factor) {
  return b.getNamedAttr("factor", b.getF32FloatAttr(factor));
}

/// Creates the op `name` from its operands and attributes, with its result
/// types from its type inference (a shape mismatch is a diagnostic at `loc`).
FailureOr<Value> createInferred(Importer &im, OperationName name, Location loc,
                                ValueRange operands,
                                ArrayRef<NamedAttribute> attrs) {
  OpBuilder &b = im.getBuilder();
  auto *inference =
      name.getRegisteredInfo()->getInterface<InferTypeOpInterface>();
  SmallVector<Type> types;
  if (failed(inference->inferReturnTypes(
          &im.getContext(), loc, operands, b.getDictionaryAttr(attrs),
          OpaqueProperties(nullptr), RegionRange(), types)))
    return failure();
  OperationState state(loc, name);
  state.addOperands(operands);
  state.addTypes(types);
  state.addAttributes(attrs);
  return b.create(state)->getResult(0);
}

/// Imports aten's tensor-tensor form `name(Tensor self, Tensor other)`, with
/// `Scalar alpha` for ops that have it (add, sub), as the elementwise binary
/// op `opName` (ElementwiseBinaryOpInterface).
NodeImporter importElementwiseBinary(OperationName opName, bool hasAlpha) {
  return [opName, hasAlpha](Importer &im, jit::Node *node) -> LogicalResult {
    auto a = im.tensorArg(node, 0);
    if (failed(a))
      return failure();
    if (!im.isTensor(node->input(1)))
      return im.error(node) << "'" << node->kind().toQualString()
                            << "' with a scalar operand is not supported yet";
    auto b = im.tensorArg(node, 1);
    if (failed(b))
      return failure();
    SmallVector<NamedAttribute> attrs;
    if (hasAlpha) {
      double alpha = 1.0;
      if (node->inputs().size() > 2) {
        auto alphaValue = im.scalarArg(node, 2);
        if (failed(alphaValue))
          return failure();
        alpha = *alphaValue;
      }
      attrs.push_back(alphaAttr(im.getBuilder(), alpha));
    }
    return im.bind(node,
                   createInferred(im, opName, im.locOf(node), {*a, *b}, attrs));
  };
}

/// mul(Tensor, Scalar) is nn.scale; mul(Tensor, Tensor) the record's form.
NodeImporter importMul(NodeImporter tensorForm) {
  return [tensorForm](Importer &im, jit::Node *node) -> LogicalResult {
    if (im.isTensor(node->input(1)))
      return tensorForm(im, node);
    auto a = im.tensorArg(node, 0);
    if (failed(a))
      return failure();
    auto factor = im.scalarArg(node, 1);
    if (failed(factor))
      return failure();
    return im.bind(
        node, im.create<nn::ScaleOp>(im.locOf(node), {*a},
                                     {factorAttr(im.getBuilder(), *factor)}));
  };
}

LogicalResult importNeg(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  return im.bind(node,
                 im.create<nn::ScaleOp>(im.locOf(node), {*x},
                                        {factorAttr(im.getBuilder(), -1.0)}));
}

/// Imports aten's `name(Tensor self) -> Tensor` as the elementwise unary op
/// `opName` (ElementwiseUnaryOpInterface: same type in and out).
NodeImporter importElementwiseUnary(OperationName opName,
                                    llvm::StringRef atenName) {
  return [opName, atenName](Importer &im, jit::Node *node) -> LogicalResult {
    if (node->inputs().size() != 1)
      return im.error(node)
             << atenName << " with " << node->inputs().size()
             << " operands is not supported (only " << atenName << "(Tensor))";
    auto x = im.tensorArg(node, 0);
    if (failed(x))
      return failure();
    auto type = cast<RankedTensorType>(x->getType());
    if (!type.getElementType().isF32())
      return im.error(node) << atenName << " of a " << type
                            << " is not supported (float32 tensors only)";
    OperationState state(im.locOf(node), opName);
    state.addOperands(*x);
    state.addTypes(type);
    return im.bind(node, im.getBuilder().create(state)->getResult(0));
  };
}

/// Whether input `v` is a tensor (imported, or a compile-time tensor).
bool isTensorInput(Importer &im, jit::Value *v) {
  if (im.isTensor(v))
    return true;
  std::optional<c10::IValue> c = im.constant(v);
  return c && c->isTensor();
}

/// A 0-d f32 tensor with `value` (the second operand of `x / 2`, `x == 0`).
Value scalarTensor(Importer &im, Location loc, double value) {
  OpBuilder &b = im.getBuilder();
  return b.create<nn::FillOp>(loc, RankedTensorType::get({}, b.getF32Type()),
                              b.getF32FloatAttr(static_cast<float>(value)));
}

/// The f32 tensor operand `input` of `node`, or a 0-d fill when it is a
/// number.
FailureOr<Value> tensorOrScalar(Importer &im, jit::Node *node, size_t input) {
  // A 0-d constant tensor (a traced model's `x / math.sqrt(d)` bakes the
  // divisor as a double tensor) takes part like a number: torch computes in
  // the other operand's float32.
  std::optional<c10::IValue> c = im.constant(node->input(input));
  if (c && c->isTensor() && c->toTensor().dim() == 0 &&
      c->toTensor().is_floating_point())
    return scalarTensor(im, im.locOf(node), c->toTensor().item<double>());
  if (isTensorInput(im, node->input(input))) {
    auto t = im.tensorArg(node, input);
    if (failed(t))
      return failure();
    if (!typeOf(*t).getElementType().isF32())
      return im.error(node)
                 << "'" << opName(node) << "' on a tensor of type "
                 << t->getType() << " is not supported (only float32)",
             failure();
    return t;
  }
  auto number = im.scalarArg(node, input);
  if (failed(number))
    return failure();
  return scalarTensor(im, im.locOf(node), *number);
}

// gelu(x, approximate='none')
LogicalResult importGelu(Importer &im, jit::Node *node) {
  auto x = f32TensorArg(im, node, 0);
  if (failed(x))
    return failure();
  std::string approximate = "none";
  if (node->inputs().size() > 1) {
    std::optional<c10::IValue> c = im.constant(node->input(1));
    if (!c || !c->isString())
      return im.error(node) << "'aten::gelu': expected a constant string for "
                               "'approximate'";
    approximate = c->toStringRef();
    if (approximate != "none" && approximate != "tanh")
      return im.error(node)
             << "'aten::gelu': unknown approximate='" << approximate << "'";
  }
  OpBuilder &b = im.getBuilder();
  return im.bind(
      node, im.create<nn::GeluOp>(
                im.locOf(node), {*x},
                {b.getNamedAttr("approximate", b.getStringAttr(approximate))}));
}

// div(a, b) and div(a, b, rounding_mode=None): true division.
LogicalResult importDiv(Importer &im, jit::Node *node) {
  if (node->inputs().size() > 2) {
    std::optional<c10::IValue> mode = im.constant(node->input(2));
    if (!mode || !mode->isNone())
      return im.error(node) << "'" << opName(node)
                            << "' with a rounding_mode is not supported";
  }
  auto a = f32TensorArg(im, node, 0);
  auto b = tensorOrScalar(im, node, 1);
  if (failed(a) || failed(b))
    return failure();
  return im.bind(node, im.create<nn::DivOp>(im.locOf(node), {*a, *b}));
}

// eq/ne/lt/le/gt/ge(a, b): an f32 0/1 mask.
LogicalResult importCompare(Importer &im, jit::Node *node) {
  auto a = tensorOrScalar(im, node, 0);
  auto b = tensorOrScalar(im, node, 1);
  if (failed(a) || failed(b))
    return failure();
  std::string predicate = node->kind().toUnqualString();
  OpBuilder &builder = im.getBuilder();
  return im.bind(node,
                 im.create<nn::CompareOp>(
                     im.locOf(node), {*a, *b},
                     {builder.getNamedAttr("predicate",
                                           builder.getStringAttr(predicate))}));
}

// masked_fill(x, mask, value): value is a number or a 0-d constant tensor.
LogicalResult importMaskedFill(Importer &im, jit::Node *node) {
  auto x = f32TensorArg(im, node, 0);
  auto mask = f32TensorArg(im, node, 1);
  if (failed(x) || failed(mask))
    return failure();
  double value;
  std::optional<c10::IValue> c = im.constant(node->input(2));
  if (c && c->isTensor() && c->toTensor().dim() == 0) {
    value = c->toTensor().item<double>();
  } else {
    auto number = im.scalarArg(node, 2);
    if (failed(number))
      return failure();
    value = *number;
  }
  OpBuilder &b = im.getBuilder();
  return im.bind(node,
                 im.create<nn::MaskedFillOp>(
                     im.locOf(node), {*x, *mask},
                     {b.getNamedAttr("value", b.getF32FloatAttr(value))}));
}

} // namespace

void dpc::registerElementwiseImporters(NodeImporterTable &table,
                                       MLIRContext &context) {
  table[c10::aten::neg] = importNeg;
  table[c10::aten::gelu] = importGelu;
  for (c10::Symbol compare : {c10::aten::eq, c10::aten::ne, c10::aten::lt,
                              c10::aten::le, c10::aten::gt, c10::aten::ge})
    table[compare] = importCompare;
  table[c10::aten::masked_fill] = importMaskedFill;
  // The family's records name their aten operators: every registered nn op
  // with ElementwiseUnaryOpInterface is importable, with nothing to list.
  context.getOrLoadDialect<nn::NNDialect>();
  for (RegisteredOperationName name : context.getRegisteredOperations()) {
    auto *record = name.getInterface<nn::ElementwiseUnaryOpInterface>();
    if (!record)
      continue;
    llvm::StringRef aten = record->getAtenName();
    table[c10::Symbol::fromQualString(aten.str())] =
        importElementwiseUnary(name, aten);
  }
  // Likewise the binary ops' tensor-tensor forms (add and sub with alpha).
  for (RegisteredOperationName name : context.getRegisteredOperations()) {
    auto *record = name.getInterface<nn::ElementwiseBinaryOpInterface>();
    if (!record)
      continue;
    table[c10::Symbol::fromQualString(record->getAtenName().str())] =
        importElementwiseBinary(name, record->hasAlpha());
  }
  // The forms beyond tensor-tensor: a number as the second operand of mul
  // (nn.scale), and div's (rounding_mode, numbers and 0-d constants as
  // divisors), which replaces the record's form.
  table[c10::aten::mul] = importMul(table.at(c10::aten::mul));
  table[c10::aten::div] = importDiv;
  table[c10::aten::true_divide] = importDiv;
}
