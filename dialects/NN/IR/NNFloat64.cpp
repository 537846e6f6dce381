//===- NNFloat64.cpp - Which nn ops compute in float64 --------------------===//
//
// A model.double() model computes in float64 end to end: its parameters,
// activations, gradients and optimizer state are float64 tensors, and each
// op runs its kernel's _f64 twin (runtime/include/dpc/kernels.def). Only
// the ops with such kernels carry NN_HasFloat64Kernels; every nn op checks
// here that it computes in float64 only if it has them, so a float64 model
// that uses another op is refused at import at its model line, and that no
// op mixes float32 and float64 (PyTorch would promote; dpc asks for an
// explicit cast instead of computing in a precision the model did not ask
// for).
//
//===----------------------------------------------------------------------===//

#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/bit.h"

using namespace mlir;

namespace dpc::nn {

namespace {

/// The float element type of a tensor type (f32 or f64 only), or null.
Type floatElementOf(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return {};
  Type element = tensor.getElementType();
  return element.isF32() || element.isF64() ? element : Type();
}

} // namespace

LogicalResult verifyFloatElementTypes(Operation *op, bool hasFloat64Kernels) {
  bool hasF32 = false, hasF64 = false;
  auto note = [&](Type type) {
    if (Type element = floatElementOf(type)) {
      hasF32 |= element.isF32();
      hasF64 |= element.isF64();
    }
  };
  for (Type type : op->getOperandTypes())
    note(type);
  for (Type type : op->getResultTypes())
    note(type);
  if (!hasF64)
    return success();
  if (!hasFloat64Kernels)
    return op->emitOpError(
        "has no float64 kernels; a float64 (model.double()) model may use "
        "linear, matmul, the elementwise unary and binary ops, where, "
        "masked_fill, comparisons, "
        "sum, mean, (log_)softmax, cross_entropy, nll_loss, mse_loss, views "
        "and copies, with SGD or Adam(W) (docs/ARCHITECTURE.md, Float64)");
  if (hasF32)
    return op->emitOpError("mixes float32 and float64 tensors; convert one "
                           "explicitly (.double() or .float())");
  for (NamedAttribute attr : op->getAttrs())
    if (auto value = dyn_cast<FloatAttr>(attr.getValue());
        value && value.getType().isF32())
      return op->emitOpError("computes in float64 but its '")
             << attr.getName().getValue() << "' is a float32 constant";
  return success();
}

FloatAttr floatAttrFor(Type type, double value) {
  if (auto tensor = dyn_cast<ShapedType>(type))
    type = tensor.getElementType();
  Builder b(type.getContext());
  return type.isF64() ? b.getF64FloatAttr(value) : b.getF32FloatAttr(value);
}

//===----------------------------------------------------------------------===//
// nn.scale and nn.fill: a float constant in the tensor's element type
//===----------------------------------------------------------------------===//

namespace {

/// Parses `<float> attr-dict : <tensor type>` into `constant` (named
/// `name`) in the tensor's element type, and `type`. The constant is read
/// before its type is known, as a double: the printer wrote a decimal that
/// reads back as the float32 or float64 value (within half an ulp of a
/// float32, so its rounding to float32 is that value), or the bits.
ParseResult parseConstantAndType(OpAsmParser &parser, OperationState &state,
                                 StringRef name, Type &type) {
  SMLoc loc = parser.getCurrentLocation();
  double value = 0;
  if (parser.parseFloat(value) ||
      parser.parseOptionalAttrDict(state.attributes) || parser.parseColon() ||
      parser.parseType(type))
    return failure();
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor ||
      !(tensor.getElementType().isF32() || tensor.getElementType().isF64()))
    return parser.emitError(loc, "expected a float32 or float64 tensor type");
  // MLIR writes a float that has no decimal form (an infinity, a NaN) as the
  // hexadecimal integer of its bits, which parseFloat reads as a double's
  // bits: a float32's 32 bits make a double below 2^-1022 that no float32
  // decimal rounds to (those round to 0), so they are read back as float32
  // bits.
  uint64_t bits = llvm::bit_cast<uint64_t>(value);
  if (tensor.getElementType().isF32() && value != 0.0 && (bits >> 32) == 0) {
    state.addAttribute(name, FloatAttr::get(tensor.getElementType(),
                                            llvm::bit_cast<float>(
                                                static_cast<uint32_t>(bits))));
    return success();
  }
  state.addAttribute(name, floatAttrFor(type, value));
  return success();
}

} // namespace

ParseResult ScaleOp::parse(OpAsmParser &parser, OperationState &state) {
  OpAsmParser::UnresolvedOperand input;
  Type type;
  if (parser.parseOperand(input) || parser.parseComma() ||
      parseConstantAndType(parser, state, "factor", type) ||
      parser.resolveOperand(input, type, state.operands))
    return failure();
  state.addTypes(type);
  return success();
}

void ScaleOp::print(OpAsmPrinter &p) {
  p << ' ' << getInput() << ", ";
  p.printAttributeWithoutType(getFactorAttr());
  p.printOptionalAttrDict((*this)->getAttrs(), {"factor"});
  p << " : " << getInput().getType();
}

ParseResult FillOp::parse(OpAsmParser &parser, OperationState &state) {
  Type type;
  if (parseConstantAndType(parser, state, "value", type))
    return failure();
  state.addTypes(type);
  return success();
}

void FillOp::print(OpAsmPrinter &p) {
  p << ' ';
  p.printAttributeWithoutType(getValueAttr());
  p.printOptionalAttrDict((*this)->getAttrs(), {"value"});
  p << " : " << getType();
}

} // namespace dpc::nn
