//===- ImportElementwiseOps.cpp - Elementwise: aten ops to nn ops ---------===//
//
// The binary ops' forms with tensors or numbers (add, sub, rsub with alpha;
// mul by a number is nn.scale), neg, div, the comparisons, masked_fill and
// gelu by hand; the unary ops (ElementwiseUnaryOpInterface: relu, exp, log,
// silu, leaky_relu, ...) from their records, with clamp's optional bounds,
// relu6 and pow's forms by hand.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/ImportArgs.h"
#include "compiler/Import/Importer.h"

#include "dialects/NN/IR/NNOps.h"
#include "dialects/NN/IR/NNShapeUtils.h"

#include <cmath>
#include <sstream>

using namespace mlir;
using namespace dpc;

namespace {

/// nn.scale's factor for operand `like`, in its float type.
NamedAttribute factorAttr(OpBuilder &b, Value like, double factor) {
  return b.getNamedAttr("factor", nn::floatAttrFor(like.getType(), factor));
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

/// Whether input `v` is a tensor (imported, or a compile-time tensor).
bool isTensorInput(Importer &im, jit::Value *v) {
  if (im.isTensor(v))
    return true;
  std::optional<c10::IValue> c = im.constant(v);
  return c && c->isTensor();
}

/// A 0-d tensor with `value` (the second operand of `x / 2`, `x == 0`), of
/// float type `floatType` (the other operand's: f32, or f64 in a float64
/// model; null: f32).
Value scalarTensor(Importer &im, Location loc, double value,
                   Type floatType = {}) {
  OpBuilder &b = im.getBuilder();
  if (!floatType)
    floatType = b.getF32Type();
  return b.create<nn::FillOp>(loc, RankedTensorType::get({}, floatType),
                              nn::floatAttrFor(floatType, value));
}

/// The value of input `v` when it is a number: a constant int, float or
/// bool, or a 0-d constant tensor (tracing bakes `x / math.sqrt(d)` and
/// `x * 2` as 0-d double and long tensors). torch computes with such an
/// operand in the other operand's float32, so it takes part as a number.
std::optional<double> numberInput(Importer &im, jit::Value *v) {
  if (im.isTensor(v))
    return std::nullopt;
  std::optional<c10::IValue> c = im.constant(v);
  if (!c)
    return std::nullopt;
  if (c->isTensor()) {
    const at::Tensor &t = c->toTensor();
    if (t.dim() != 0 || t.is_complex())
      return std::nullopt;
    return t.item<double>();
  }
  if (c->isDouble())
    return c->toDouble();
  if (c->isInt())
    return static_cast<double>(c->toInt());
  if (c->isBool())
    return static_cast<double>(c->toBool());
  return std::nullopt;
}

/// The float tensor operand `input` of `node`, or a 0-d fill of `floatType`
/// (the other operand's float type; null: f32) when it is a number
/// (numberInput). A tensor that is not 0-d (a constant or a buffer,
/// `x + torch.ones(16)`) takes part as a broadcast operand.
FailureOr<Value> tensorOrScalar(Importer &im, jit::Node *node, size_t input,
                                Type floatType = {}) {
  if (std::optional<double> number = numberInput(im, node->input(input)))
    return scalarTensor(im, im.locOf(node), *number, floatType);
  if (isTensorInput(im, node->input(input))) {
    auto t = im.tensorArg(node, input);
    if (failed(t))
      return failure();
    Type element = typeOf(*t).getElementType();
    if (!element.isF32() && !element.isF64())
      return im.error(node)
                 << "'" << opName(node) << "' on a tensor of type "
                 << t->getType() << " is not supported (only float32)",
             failure();
    return t;
  }
  auto number = im.scalarArg(node, input);
  if (failed(number))
    return failure();
  return scalarTensor(im, im.locOf(node), *number, floatType);
}

/// The float type of the first of `inputs` of `node` that is a float tensor
/// (f32, or f64 in a float64 model): the type its number operands take;
/// null (f32) when none is.
Type floatTypeOfTensorInputs(Importer &im, jit::Node *node,
                             ArrayRef<size_t> inputs) {
  for (size_t input : inputs)
    if (im.isTensor(node->input(input))) {
      auto t = im.tensorArg(node, input);
      if (succeeded(t) && isa<FloatType>(typeOf(*t).getElementType()))
        return typeOf(*t).getElementType();
    }
  return {};
}

/// Imports aten's `name(Tensor self, Tensor|Scalar other)`, with `Scalar
/// alpha` for ops that have it (add, sub), as the elementwise binary op
/// `opName` (ElementwiseBinaryOpInterface). A number `other` (`x + 1.0`)
/// takes part as a 0-d f32 fill, which is what torch computes: float32
/// `x + float32(1.0)`.
NodeImporter importElementwiseBinary(OperationName opName, bool hasAlpha) {
  return [opName, hasAlpha](Importer &im, jit::Node *node) -> LogicalResult {
    auto a = floatTensorArg(im, node, 0);
    if (failed(a))
      return failure();
    auto b = tensorOrScalar(im, node, 1, typeOf(*a).getElementType());
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
      attrs.push_back(alphaAttr(im.getBuilder(), *a, alpha));
    }
    return im.bind(node,
                   createInferred(im, opName, im.locOf(node), {*a, *b}, attrs));
  };
}

// rsub(self, other, alpha) = other - alpha * self (a traced `1.0 - x`).
LogicalResult importRsub(Importer &im, jit::Node *node) {
  auto self = floatTensorArg(im, node, 0);
  if (failed(self))
    return failure();
  auto other = tensorOrScalar(im, node, 1, typeOf(*self).getElementType());
  if (failed(other))
    return failure();
  double alpha = 1.0;
  if (node->inputs().size() > 2) {
    auto alphaValue = im.scalarArg(node, 2);
    if (failed(alphaValue))
      return failure();
    alpha = *alphaValue;
  }
  return im.bind(node,
                 createInferred(im, OperationName("nn.sub", &im.getContext()),
                                im.locOf(node), {*other, *self},
                                {alphaAttr(im.getBuilder(), *self, alpha)}));
}

/// mul(Tensor, number) (a number or a 0-d constant) is nn.scale, as torch
/// computes it: float32 `x * float32(number)`; mul(Tensor, Tensor) the
/// record's broadcasting form.
NodeImporter importMul(NodeImporter tensorForm) {
  return [tensorForm](Importer &im, jit::Node *node) -> LogicalResult {
    std::optional<double> factor = numberInput(im, node->input(1));
    if (!factor)
      return tensorForm(im, node);
    auto a = floatTensorArg(im, node, 0);
    if (failed(a))
      return failure();
    return im.bind(node, im.create<nn::ScaleOp>(
                             im.locOf(node), {*a},
                             {factorAttr(im.getBuilder(), *a, *factor)}));
  };
}

LogicalResult importNeg(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  return im.bind(
      node, im.create<nn::ScaleOp>(im.locOf(node), {*x},
                                   {factorAttr(im.getBuilder(), *x, -1.0)}));
}

/// Creates the unary record op `opName` of `x` with the f64 attributes
/// `names` = `values` (its parameters).
Value createUnary(Importer &im, jit::Node *node, OperationName opName, Value x,
                  ArrayRef<StringRef> names, ArrayRef<double> values) {
  OpBuilder &b = im.getBuilder();
  OperationState state(im.locOf(node), opName);
  state.addOperands(x);
  state.addTypes(x.getType());
  for (auto [name, value] : llvm::zip(names, values))
    state.addAttribute(name, b.getF64FloatAttr(value));
  return b.create(state)->getResult(0);
}

/// Imports aten's `name(Tensor self, Scalar p0, ...) -> Tensor` as the
/// elementwise unary op `opName` (ElementwiseUnaryOpInterface: same type in
/// and out), aten's numbers after the tensor as the record's parameters.
NodeImporter importElementwiseUnary(OperationName opName,
                                    llvm::StringRef atenName,
                                    SmallVector<StringRef, 3> parameterNames) {
  return [opName, atenName, parameterNames](Importer &im,
                                            jit::Node *node) -> LogicalResult {
    size_t numParameters = parameterNames.size();
    if (node->inputs().size() != 1 + numParameters)
      return im.error(node) << atenName << " with " << node->inputs().size()
                            << " operands is not supported (expected "
                            << 1 + numParameters << ")";
    auto x = im.tensorArg(node, 0);
    if (failed(x))
      return failure();
    auto type = cast<RankedTensorType>(x->getType());
    if (!type.getElementType().isF32() && !type.getElementType().isF64())
      return im.error(node) << atenName << " of a " << type
                            << " is not supported (float32 tensors only)";
    SmallVector<double> values;
    for (unsigned i = 1; i <= numParameters; ++i) {
      if (isTensorInput(im, node->input(i)))
        return im.error(node) << atenName << " with a tensor as operand " << i
                              << " is not supported (only numbers)";
      auto value = im.scalarArg(node, i);
      if (failed(value))
        return failure();
      values.push_back(*value);
    }
    return im.bind(node,
                   createUnary(im, node, opName, *x, parameterNames, values));
  };
}

// clamp(x, min=None, max=None), clamp_min(x, min), clamp_max(x, max): nn.clamp
// with an infinite bound for an absent one.
LogicalResult importClamp(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  c10::Symbol kind = node->kind();
  double bounds[2] = {-INFINITY, INFINITY};
  for (int i = 0; i < 2; ++i) {
    size_t input = kind == c10::aten::clamp ? 1 + i : 1;
    if ((kind == c10::aten::clamp_min && i == 1) ||
        (kind == c10::aten::clamp_max && i == 0) ||
        Importer::isNone(node->input(input)))
      continue;
    if (isTensorInput(im, node->input(input)))
      return im.error(node) << "'" << opName(node)
                            << "' with tensor bounds is not supported (only "
                               "numbers)";
    auto bound = im.scalarArg(node, input);
    if (failed(bound))
      return failure();
    bounds[i] = *bound;
  }
  return im.bind(node, createUnary(im, node,
                                   OperationName("nn.clamp", &im.getContext()),
                                   *x, {"min", "max"}, bounds));
}

// relu6(x) = hardtanh(x, 0, 6), as aten defines it.
LogicalResult importRelu6(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
  if (failed(x))
    return failure();
  return im.bind(node,
                 createUnary(im, node,
                             OperationName("nn.hardtanh", &im.getContext()), *x,
                             {"min_val", "max_val"}, {0.0, 6.0}));
}

/// pow's three forms: tensor ** number is nn.pow_scalar (torch's
/// pow(Tensor, Scalar) kernel, with its fast paths), tensor ** tensor and
/// number ** tensor (the number a 0-d fill, as torch wraps it) nn.pow.
LogicalResult importPow(Importer &im, jit::Node *node) {
  MLIRContext *ctx = &im.getContext();
  if (std::optional<double> exponent = numberInput(im, node->input(1))) {
    auto x = floatTensorArg(im, node, 0);
    if (failed(x))
      return failure();
    return im.bind(node,
                   createUnary(im, node, OperationName("nn.pow_scalar", ctx),
                               *x, {"exponent"}, {*exponent}));
  }
  auto exponent = floatTensorArg(im, node, 1);
  if (failed(exponent))
    return failure();
  auto base = tensorOrScalar(im, node, 0, typeOf(*exponent).getElementType());
  if (failed(base))
    return failure();
  return im.bind(node, createInferred(im, OperationName("nn.pow", ctx),
                                      im.locOf(node), {*base, *exponent}, {}));
}

/// where(condition, self, other): the condition an f32 0/1 mask (a
/// comparison's result or a bool constant), self and other tensors or
/// numbers; the three are broadcast to one shape first (nn.where takes
/// operands of the result's shape).
LogicalResult importWhere(Importer &im, jit::Node *node) {
  if (node->inputs().size() != 3)
    return im.error(node) << "'" << opName(node)
                          << "' with one operand (the indices of the true "
                             "elements) is not supported",
           failure();
  auto condition = floatTensorArg(im, node, 0);
  Type floatType = floatTypeOfTensorInputs(im, node, {1, 2});
  auto lhs = tensorOrScalar(im, node, 1, floatType);
  auto rhs = tensorOrScalar(im, node, 2, floatType);
  if (failed(condition) || failed(lhs) || failed(rhs))
    return failure();
  Value operands[3] = {*condition, *lhs, *rhs};
  SmallVector<int64_t> shape;
  for (Value v : operands) {
    auto broadcast = nn::broadcastShapes(shape, typeOf(v).getShape());
    if (failed(broadcast))
      return im.error(node) << "'" << opName(node) << "': shapes "
                            << typeOf(*condition) << ", " << typeOf(*lhs)
                            << " and " << typeOf(*rhs) << " do not broadcast",
             failure();
    shape = *broadcast;
  }
  OpBuilder &b = im.getBuilder();
  // In lhs's float type: nn.where refuses float64 itself.
  auto type = RankedTensorType::get(shape, typeOf(*lhs).getElementType());
  for (Value &v : operands)
    if (v.getType() != type)
      v = b.create<nn::BroadcastToOp>(im.locOf(node), type, v);
  return im.bind(node, im.create<nn::WhereOp>(im.locOf(node), operands));
}

// gelu(x, approximate='none')
LogicalResult importGelu(Importer &im, jit::Node *node) {
  auto x = floatTensorArg(im, node, 0);
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
  auto a = floatTensorArg(im, node, 0);
  if (failed(a))
    return failure();
  auto b = tensorOrScalar(im, node, 1, typeOf(*a).getElementType());
  if (failed(b))
    return failure();
  return im.bind(node, im.create<nn::DivOp>(im.locOf(node), {*a, *b}));
}

// eq/ne/lt/le/gt/ge(a, b): a 0/1 mask in the operands' float type.
LogicalResult importCompare(Importer &im, jit::Node *node) {
  Type floatType = floatTypeOfTensorInputs(im, node, {0, 1});
  auto a = tensorOrScalar(im, node, 0, floatType);
  auto b = tensorOrScalar(im, node, 1, floatType);
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
  auto x = floatTensorArg(im, node, 0);
  auto mask = floatTensorArg(im, node, 1);
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
  return im.bind(
      node,
      im.create<nn::MaskedFillOp>(
          im.locOf(node), {*x, *mask},
          {b.getNamedAttr("value", nn::floatAttrFor(x->getType(), value))}));
}

/// Operand `input` of `node` as a bool mask of 0 and 1: a bool tensor as it
/// is, any other (`x != 0`, as torch's logical ops read it) compared.
FailureOr<Value> truthOf(Importer &im, jit::Node *node, size_t input) {
  auto a = tensorOrScalar(im, node, input);
  if (failed(a) || im.isBool(*a))
    return a;
  Location loc = im.locOf(node);
  OpBuilder &b = im.getBuilder();
  return im.create<nn::CompareOp>(
      loc, {*a, scalarTensor(im, loc, 0.0)},
      {b.getNamedAttr("predicate", b.getStringAttr("ne"))});
}

// logical_not/and/or/xor: bool masks (nn.compare results), nonzero as true.
// MultiheadAttention merges a bool attention mask with a key padding mask
// so.
LogicalResult importLogical(Importer &im, jit::Node *node) {
  c10::Symbol kind = node->kind();
  Location loc = im.locOf(node);
  OpBuilder &b = im.getBuilder();
  auto compare = [&](Value lhs, Value rhs, const char *predicate) {
    return im.create<nn::CompareOp>(
        loc, {lhs, rhs},
        {b.getNamedAttr("predicate", b.getStringAttr(predicate))});
  };
  auto a = truthOf(im, node, 0);
  if (failed(a))
    return failure();
  if (kind == c10::aten::logical_not)
    return im.bind(node, compare(*a, scalarTensor(im, loc, 0.0), "eq"));
  auto other = truthOf(im, node, 1);
  if (failed(other))
    return failure();
  if (kind == c10::aten::logical_xor)
    return im.bind(node, compare(*a, *other, "ne"));
  FailureOr<Value> combined =
      kind == c10::aten::logical_and
          ? im.create<nn::MulOp>(loc, {*a, *other})
          : im.create<nn::AddOp>(loc, {*a, *other}, {alphaAttr(b, *a, 1.0)});
  if (failed(combined))
    return failure();
  return im.bind(node, compare(*combined, scalarTensor(im, loc, 0.0), "ne"));
}

/// The optional `dtype=` input `input` of `node`: `fallback` when it is
/// None, else a constant dtype.
FailureOr<at::ScalarType> dtypeArg(Importer &im, jit::Node *node, size_t input,
                                   at::ScalarType fallback) {
  if (input >= node->inputs().size() || Importer::isNone(node->input(input)))
    return fallback;
  std::optional<c10::IValue> dtype = im.constant(node->input(input));
  if (!dtype || !dtype->isInt())
    return im.error(node) << "'" << opName(node)
                          << "': expected a constant dtype",
           failure();
  return static_cast<at::ScalarType>(dtype->toInt());
}

// zeros_like/ones_like(x, dtype=None, ...): depend on x's static shape and
// dtype only, so they are compile-time tensors (bool and integer ones too).
LogicalResult importFullLike(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  FailureOr<at::ScalarType> type = dtypeArg(im, node, 1, im.dtypeOf(*x));
  if (failed(type))
    return failure();
  auto shape = typeOf(*x).getShape();
  at::Tensor value = at::full(std::vector<int64_t>(shape.begin(), shape.end()),
                              node->kind() == c10::aten::ones_like ? 1 : 0,
                              at::TensorOptions().dtype(*type));
  im.bindNewTensor(node, value);
  return success();
}

// x.new_zeros/new_ones(size, dtype=None, ...): like zeros_like with the
// given shape.
LogicalResult importNewFull(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  auto size = im.intListArg(node, 1);
  if (failed(x) || failed(size))
    return failure();
  FailureOr<at::ScalarType> type = dtypeArg(im, node, 2, im.dtypeOf(*x));
  if (failed(type))
    return failure();
  im.bindNewTensor(node,
                   at::full(std::vector<int64_t>(size->begin(), size->end()),
                            node->kind() == c10::aten::new_ones ? 1 : 0,
                            at::TensorOptions().dtype(*type)));
  return success();
}

// x.to(dtype), x.to(device, dtype), x.to(other), x.float(), x.type_as(other),
// traced `.type(dtype)`: dtype conversions of the dtypes dpc computes in.
// A conversion to the dtype the tensor has is the identity (Hugging Face
// writes `attn_weights.type(value.dtype)` for mixed precision), a device is
// where dpc puts the tensor anyway, a bool mask becomes a float 0/1 tensor
// (a copy, so that it is no longer read as a mask), a float tensor a mask
// of its nonzeros, and an int64 tensor computed by the step (Hugging Face's
// attention_mask) float by nn.convert, rounded to nearest as torch's
// `.float()`, or a mask of its nonzeros. Under --precision bf16|fp16, float32
// and the autocast's 16-bit type convert into each other (below). Other
// conversions change the arithmetic (f64, a 16-bit type without its
// autocast, float16 and bfloat16 into each other) or have no kernel (float or
// bool to int64; compile-time ones are folded by LibTorch before this), and
// are refused.
LogicalResult importDtypeConversion(Importer &im, jit::Node *node) {
  auto x = im.tensorArg(node, 0);
  if (failed(x))
    return failure();
  at::ScalarType from = im.dtypeOf(*x);
  std::optional<at::ScalarType> to;
  const c10::FunctionSchema &schema = node->schema();
  for (size_t i = 1; i < schema.arguments().size(); ++i) {
    const c10::Argument &argument = schema.arguments()[i];
    jit::Value *input = node->input(i);
    if (argument.name() == "other") {
      auto other = im.tensorArg(node, i);
      if (failed(other))
        return failure();
      to = im.dtypeOf(*other);
    } else if (argument.name() == "dtype" && !Importer::isNone(input)) {
      FailureOr<at::ScalarType> dtype = dtypeArg(im, node, i, from);
      if (failed(dtype))
        return failure();
      to = *dtype;
    }
  }
  if (!to || *to == from)
    return im.bind(node, *x);
  Location loc = im.locOf(node);
  OpBuilder &b = im.getBuilder();
  // --precision bf16|fp16 (Autocast.cpp): a 16-bit value made float32 is
  // the same value, no longer a 16-bit one (an nn.scale by 1, through which
  // Importer::isLowPrecision does not look; its gradient is rounded to 16
  // bits by the autocast's rounding of the operand); a float32 value made
  // 16-bit is rounded. Without autocast, the ops after such a conversion
  // would not round their results, so it stays refused.
  std::optional<at::ScalarType> lowPrecision = im.autocastType();
  if (lowPrecision && from == *lowPrecision && *to == at::kFloat)
    return im.bind(node,
                   im.create<nn::ScaleOp>(loc, {*x}, {factorAttr(b, *x, 1.0)}));
  if (lowPrecision && from == at::kFloat && *to == *lowPrecision)
    return im.bind(node, im.roundToLowPrecision(loc, *x));
  if (from == at::kBool && *to == at::kFloat)
    return im.bind(node,
                   im.create<nn::ScaleOp>(loc, {*x}, {factorAttr(b, *x, 1.0)}));
  if (from == at::kFloat && *to == at::kBool)
    return im.bind(node,
                   im.create<nn::CompareOp>(
                       loc, {*x, scalarTensor(im, loc, 0.0)},
                       {b.getNamedAttr("predicate", b.getStringAttr("ne"))}));
  if (from == at::kLong && (*to == at::kFloat || *to == at::kBool)) {
    auto converted = im.create<nn::ConvertOp>(loc, {*x});
    if (failed(converted) || *to == at::kFloat)
      return im.bind(node, converted);
    return im.bind(node,
                   im.create<nn::CompareOp>(
                       loc, {*converted, scalarTensor(im, loc, 0.0)},
                       {b.getNamedAttr("predicate", b.getStringAttr("ne"))}));
  }
  return im.error(node) << "'" << opName(node) << "': converting a "
                        << c10::toString(from) << " tensor to "
                        << c10::toString(*to)
                        << " is not supported (dpc computes in float32, with "
                           "int64 indices and bool masks)",
         failure();
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
  for (c10::Symbol logical : {c10::aten::logical_not, c10::aten::logical_and,
                              c10::aten::logical_or, c10::aten::logical_xor})
    table[logical] = importLogical;
  table[c10::aten::zeros_like] = importFullLike;
  table[c10::aten::ones_like] = importFullLike;
  table[c10::aten::new_zeros] = importNewFull;
  table[c10::aten::new_ones] = importNewFull;
  table[c10::aten::to] = importDtypeConversion;
  table[c10::aten::type_as] = importDtypeConversion;
  // The family's records name their aten operators: every registered nn op
  // with ElementwiseUnaryOpInterface is importable, with nothing to list.
  context.getOrLoadDialect<nn::NNDialect>();
  for (RegisteredOperationName name : context.getRegisteredOperations()) {
    auto *record = name.getInterface<nn::ElementwiseUnaryOpInterface>();
    // nn.round_bf16 and nn.round_f16 have no aten operator (the autocast
    // inserts them).
    if (!record || record->getAtenName().empty())
      continue;
    llvm::StringRef aten = record->getAtenName();
    table[c10::Symbol::fromQualString(aten.str())] =
        importElementwiseUnary(name, aten, record->getParameterNames());
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
  table[c10::aten::rsub] = importRsub;
  // The forms beyond the records' own: clamp's optional bounds, relu6,
  // pow's three forms (a unary and a binary record), where.
  for (c10::Symbol clamp :
       {c10::aten::clamp, c10::aten::clamp_min, c10::aten::clamp_max})
    table[clamp] = importClamp;
  table[c10::aten::relu6] = importRelu6;
  table[c10::aten::pow] = importPow;
  table[c10::aten::where] = importWhere;
}
