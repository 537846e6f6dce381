//===- NNTransformerOps.cpp - Transformer ops: types, verifiers, VJPs ----===//
//
// The ops are declared in NNTransformerOps.td; NNOps.cpp includes their
// generated definitions, so this file only defines their methods. As for
// the core ops, shapes are checked by result type inference, so that the
// importer reports a mismatch at the model's source line, and each
// differentiable op builds its backward out of nn ops.
//
//===----------------------------------------------------------------------===//

#include "dialects/NN/IR/NNOps.h"
#include "dialects/NN/IR/NNShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace dpc::nn;

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Row-major result shape of a slice.
int64_t sliceLength(int64_t start, int64_t end, int64_t step) {
  return end <= start ? 0 : (end - start + step - 1) / step;
}

LogicalResult checkSlice(std::optional<Location> loc, StringRef name,
                         ArrayRef<int64_t> shape, int64_t dim, int64_t start,
                         int64_t end, int64_t step) {
  int64_t rank = shape.size();
  if (dim < 0 || dim >= rank)
    return emitOptionalError(loc, name, ": dim ", dim, " is out of range for ",
                             shapeString(shape));
  if (step < 1)
    return emitOptionalError(loc, name, ": step ", step, " must be positive");
  if (start < 0 || start > end || end > shape[dim])
    return emitOptionalError(loc, name, ": bounds [", start, ", ", end,
                             ") do not fit dimension ", dim, " of ",
                             shapeString(shape));
  return success();
}

/// The shape `shape` reduced over `dims` (sorted and distinct).
FailureOr<SmallVector<int64_t>>
reducedShape(std::optional<Location> loc, StringRef name,
             ArrayRef<int64_t> shape, ArrayRef<int64_t> dims, bool keepdim) {
  int64_t rank = shape.size();
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d < 0 || d >= rank)
      return emitOptionalError(loc, name, ": dim ", d, " is out of range for ",
                               shapeString(shape));
    if (i > 0 && dims[i - 1] >= d)
      return emitOptionalError(loc, name,
                               ": dims must be sorted and distinct, got ",
                               shapeString(dims));
  }
  SmallVector<int64_t> result;
  for (int64_t i = 0; i < rank; ++i) {
    if (!llvm::is_contained(dims, i))
      result.push_back(shape[i]);
    else if (keepdim)
      result.push_back(1);
  }
  return result;
}

/// The reduced shape with the reduced dimensions kept as 1.
SmallVector<int64_t> keptShape(ArrayRef<int64_t> shape,
                               ArrayRef<int64_t> dims) {
  SmallVector<int64_t> result(shape);
  for (int64_t d : dims)
    result[d] = 1;
  return result;
}

Value sumToTypeOf(OpBuilder &b, Location loc, Value grad, Value operand) {
  if (grad.getType() == operand.getType())
    return grad;
  return b.create<SumToOp>(loc, operand.getType(), grad);
}

/// A 0-d f32 tensor holding `value`.
Value scalarFill(OpBuilder &b, Location loc, float value) {
  return b.create<FillOp>(loc, f32Tensor(b.getContext(), {}),
                          b.getF32FloatAttr(value));
}

bool isValidPredicate(StringRef p) {
  return llvm::is_contained({"eq", "ne", "lt", "le", "gt", "ge"}, p);
}

/// Whether `approximate` (absent: the default "none") names a gelu form.
/// Attributes with default values may be absent while an op is parsed or
/// built, so inference reads them through these helpers.
bool isValidApproximate(StringAttr approximate) {
  return !approximate || approximate.getValue() == "none" ||
         approximate.getValue() == "tanh";
}

int64_t stepOrDefault(IntegerAttr step) {
  return step ? step.getValue().getSExtValue() : 1;
}

} // namespace

//===----------------------------------------------------------------------===//
// constant
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  auto type = dyn_cast_or_null<RankedTensorType>(adaptor.getValue().getType());
  if (!type || !type.hasStaticShape())
    return emitOptionalError(loc, "constant: expected a statically shaped "
                                  "tensor value");
  types.push_back(type);
  return success();
}

//===----------------------------------------------------------------------===//
// embedding
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> w = shapeOf(adaptor.getWeight());
  if (w.size() != 2)
    return emitOptionalError(loc, "embedding: expected a weight [V, D], got ",
                             shapeString(w));
  if (IntegerAttr pad = adaptor.getPaddingIdxAttr()) {
    int64_t p = pad.getValue().getSExtValue();
    if (p < 0 || p >= w[0])
      return emitOptionalError(loc, "embedding: padding_idx ", p,
                               " is out of range [0, ", w[0], ")");
  }
  SmallVector<int64_t> shape(shapeOf(adaptor.getIndices()));
  shape.push_back(w[1]);
  types.push_back(f32Tensor(ctx, shape));
  return success();
}

SmallVector<Value> EmbeddingOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Value dw =
      b.create<EmbeddingGradOp>(getLoc(), getWeight().getType(), resultGrads[0],
                                getIndices(), getPaddingIdxAttr());
  return {dw, Value()};
}

LogicalResult EmbeddingGradOp::verify() {
  ArrayRef<int64_t> w = shapeOf(getResult());
  if (w.size() != 2)
    return emitOpError("expected a result [V, D], got ") << shapeString(w);
  SmallVector<int64_t> expected(shapeOf(getIndices()));
  expected.push_back(w[1]);
  if (shapeOf(getGrad()) != ArrayRef<int64_t>(expected))
    return emitOpError("gradient shape ")
           << shapeString(shapeOf(getGrad())) << " does not match indices "
           << shapeString(shapeOf(getIndices())) << " and rows of " << w[1];
  if (IntegerAttr pad = getPaddingIdxAttr()) {
    int64_t p = pad.getValue().getSExtValue();
    if (p < 0 || p >= w[0])
      return emitOpError("padding_idx ")
             << p << " is out of range [0, " << w[0] << ")";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// layer_norm
//===----------------------------------------------------------------------===//

static LogicalResult checkLayerNorm(std::optional<Location> loc, StringRef name,
                                    Value input, Value weight,
                                    int64_t normalizedRank) {
  ArrayRef<int64_t> x = shapeOf(input), w = shapeOf(weight);
  if (normalizedRank > static_cast<int64_t>(x.size()))
    return emitOptionalError(loc, name, ": cannot normalize the last ",
                             normalizedRank, " dimensions of ", shapeString(x));
  if (ArrayRef<int64_t>(x).take_back(normalizedRank) != w)
    return emitOptionalError(loc, name, ": weight shape ", shapeString(w),
                             " does not match the last ", normalizedRank,
                             " dimensions of ", shapeString(x));
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  if (failed(checkLayerNorm(loc, "layer_norm", adaptor.getInput(),
                            adaptor.getWeight(), adaptor.getNormalizedRank())))
    return failure();
  if (adaptor.getBias().getType() != adaptor.getWeight().getType())
    return emitOptionalError(loc, "layer_norm: bias shape ",
                             shapeString(shapeOf(adaptor.getBias())),
                             " differs from the weight shape ",
                             shapeString(shapeOf(adaptor.getWeight())));
  types.push_back(adaptor.getInput().getType());
  return success();
}

SmallVector<Value> LayerNormOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  auto grad = b.create<LayerNormGradOp>(getLoc(), resultGrads[0], getInput(),
                                        getWeight(), getNormalizedRankAttr(),
                                        getEpsAttr());
  return {grad.getInputGrad(), grad.getWeightGrad(), grad.getBiasGrad()};
}

LogicalResult LayerNormGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  if (failed(checkLayerNorm(loc, "layer_norm_grad", adaptor.getInput(),
                            adaptor.getWeight(), adaptor.getNormalizedRank())))
    return failure();
  if (adaptor.getGrad().getType() != adaptor.getInput().getType())
    return emitOptionalError(loc, "layer_norm_grad: gradient ",
                             adaptor.getGrad().getType(), " and input ",
                             adaptor.getInput().getType(), " differ");
  types.push_back(adaptor.getInput().getType());
  types.push_back(adaptor.getWeight().getType());
  types.push_back(adaptor.getWeight().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// gelu
//===----------------------------------------------------------------------===//

LogicalResult GeluOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  if (!isValidApproximate(adaptor.getApproximateAttr()))
    return emitOptionalError(loc,
                             "gelu: approximate must be 'none' or "
                             "'tanh', got ",
                             adaptor.getApproximateAttr());
  types.push_back(adaptor.getInput().getType());
  return success();
}

SmallVector<Value> GeluOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<GeluGradOp>(getLoc(), resultGrads[0], getInput(),
                               getApproximateAttr())};
}

LogicalResult GeluGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  if (!isValidApproximate(adaptor.getApproximateAttr()))
    return emitOptionalError(loc,
                             "gelu_grad: approximate must be 'none' or "
                             "'tanh', got ",
                             adaptor.getApproximateAttr());
  types.push_back(adaptor.getGrad().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// softmax, log_softmax
//===----------------------------------------------------------------------===//

static LogicalResult inferSoftmaxLike(std::optional<Location> loc,
                                      StringRef name, Value input, int64_t dim,
                                      SmallVectorImpl<Type> &types) {
  int64_t rank = tensorType(input).getRank();
  if (dim < 0 || dim >= rank)
    return emitOptionalError(loc, name, ": dim ", dim, " is out of range for ",
                             shapeString(shapeOf(input)));
  types.push_back(input.getType());
  return success();
}

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferSoftmaxLike(loc, "softmax", adaptor.getInput(), adaptor.getDim(),
                          types);
}

LogicalResult LogSoftmaxOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  return inferSoftmaxLike(loc, "log_softmax", adaptor.getInput(),
                          adaptor.getDim(), types);
}

LogicalResult SoftmaxGradOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferSoftmaxLike(loc, "softmax_grad", adaptor.getGrad(),
                          adaptor.getDim(), types);
}

LogicalResult LogSoftmaxGradOp::inferReturnTypes(MLIRContext *,
                                                 std::optional<Location> loc,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &types) {
  return inferSoftmaxLike(loc, "log_softmax_grad", adaptor.getGrad(),
                          adaptor.getDim(), types);
}

SmallVector<Value> SoftmaxOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<SoftmaxGradOp>(getLoc(), resultGrads[0], getResult(),
                                  getDimAttr())};
}

SmallVector<Value> LogSoftmaxOp::buildVJP(OpBuilder &b,
                                          ValueRange resultGrads) {
  return {b.create<LogSoftmaxGradOp>(getLoc(), resultGrads[0], getResult(),
                                     getDimAttr())};
}

//===----------------------------------------------------------------------===//
// div, compare, masked_fill
//===----------------------------------------------------------------------===//

LogicalResult DivOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferBroadcastF32(ctx, loc, "div", adaptor.getLhs(), adaptor.getRhs(),
                           types);
}

SmallVector<Value> DivOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0], lhs = getLhs(), rhs = getRhs();
  // torch's div backward: grad / other, and -grad * ((self / other) / other).
  // A divisor that does not depend on a parameter (a number) has its
  // gradient ops removed again as dead code.
  Value dlhs = b.create<DivOp>(loc, dy, rhs);
  Value ratio = b.create<DivOp>(loc, b.create<DivOp>(loc, lhs, rhs), rhs);
  Value drhs = b.create<MulOp>(
      loc, b.create<ScaleOp>(loc, dy, b.getF32FloatAttr(-1.0f)), ratio);
  return {sumToTypeOf(b, loc, dlhs, lhs), sumToTypeOf(b, loc, drhs, rhs)};
}

LogicalResult CompareOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  if (!isValidPredicate(adaptor.getPredicate()))
    return emitOptionalError(loc, "compare: unknown predicate '",
                             adaptor.getPredicate(),
                             "' (expected eq, ne, lt, le, gt or ge)");
  return inferBroadcastF32(ctx, loc, "compare", adaptor.getLhs(),
                           adaptor.getRhs(), types);
}

SmallVector<Value> CompareOp::buildVJP(OpBuilder &, ValueRange) {
  // A comparison is piecewise constant: no gradient flows through it.
  return {Value(), Value()};
}

LogicalResult MaskedFillOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> x = shapeOf(adaptor.getInput()),
                    m = shapeOf(adaptor.getMask());
  auto shape = broadcastShapes(m, x);
  if (failed(shape) || ArrayRef<int64_t>(*shape) != x)
    return emitOptionalError(loc, "masked_fill: mask ", shapeString(m),
                             " does not broadcast to the input ",
                             shapeString(x));
  types.push_back(adaptor.getInput().getType());
  return success();
}

SmallVector<Value> MaskedFillOp::buildVJP(OpBuilder &b,
                                          ValueRange resultGrads) {
  Value dx = b.create<MaskedFillOp>(getLoc(), resultGrads[0], getMask(),
                                    b.getF32FloatAttr(0.0f));
  return {dx, Value()};
}

//===----------------------------------------------------------------------===//
// sum, mean
//===----------------------------------------------------------------------===//

LogicalResult SumOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  auto shape = reducedShape(loc, "sum", shapeOf(adaptor.getInput()),
                            adaptor.getDims(), adaptor.getKeepdim());
  if (failed(shape))
    return failure();
  types.push_back(f32Tensor(ctx, *shape));
  return success();
}

LogicalResult MeanOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto shape = reducedShape(loc, "mean", shapeOf(adaptor.getInput()),
                            adaptor.getDims(), adaptor.getKeepdim());
  if (failed(shape))
    return failure();
  types.push_back(f32Tensor(ctx, *shape));
  return success();
}

/// The gradient of a reduction: the result gradient with the reduced
/// dimensions put back (as 1), optionally divided by `count`, broadcast to
/// the input.
static Value reductionVJP(OpBuilder &b, Location loc, Value dy, Value input,
                          ArrayRef<int64_t> dims,
                          std::optional<int64_t> count) {
  auto kept = f32Tensor(b.getContext(), keptShape(shapeOf(input), dims));
  Value g = dy;
  if (g.getType() != kept)
    g = b.create<ReshapeOp>(loc, kept, g);
  // torch's mean_backward divides the expanded gradient by the count;
  // dividing before broadcasting gives the same values.
  if (count)
    g = b.create<DivOp>(loc, g, scalarFill(b, loc, static_cast<float>(*count)));
  if (g.getType() != input.getType())
    g = b.create<BroadcastToOp>(loc, input.getType(), g);
  return g;
}

SmallVector<Value> SumOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {reductionVJP(b, getLoc(), resultGrads[0], getInput(), getDims(),
                       std::nullopt)};
}

SmallVector<Value> MeanOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  int64_t count = 1;
  for (int64_t d : getDims())
    count *= shapeOf(getInput())[d];
  return {
      reductionVJP(b, getLoc(), resultGrads[0], getInput(), getDims(), count)};
}

//===----------------------------------------------------------------------===//
// permute, broadcast_to
//===----------------------------------------------------------------------===//

LogicalResult PermuteOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  RankedTensorType type = tensorType(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPermutation();
  int64_t rank = type.getRank();
  SmallVector<bool> seen(rank, false);
  bool valid = static_cast<int64_t>(perm.size()) == rank;
  for (int64_t p : perm) {
    if (!valid || p < 0 || p >= rank || seen[p]) {
      valid = false;
      break;
    }
    seen[p] = true;
  }
  if (!valid)
    return emitOptionalError(loc, "permute: ", shapeString(perm),
                             " is not a permutation of the dimensions of ",
                             shapeString(type.getShape()));
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

SmallVector<Value> PermuteOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  return {b.create<PermuteOp>(getLoc(), resultGrads[0],
                              b.getDenseI64ArrayAttr(inverse))};
}

OpFoldResult PermuteOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> perm = getPermutation();
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    return getInput();
  // permute(permute(x, inner), outer) = permute(x, inner[outer[i]]).
  if (auto producer = getInput().getDefiningOp<PermuteOp>()) {
    ArrayRef<int64_t> inner = producer.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t p : perm)
      composed.push_back(inner[p]);
    setOperand(producer.getInput());
    setPermutation(composed);
    if (llvm::equal(composed, llvm::seq<int64_t>(0, composed.size())))
      return getInput();
    return getResult();
  }
  return {};
}

LogicalResult BroadcastToOp::verify() {
  RankedTensorType in = tensorType(getInput()), out = tensorType(getResult());
  if (in.getElementType() != out.getElementType())
    return emitOpError("changes the element type");
  auto shape = broadcastShapes(in.getShape(), out.getShape());
  if (failed(shape) || ArrayRef<int64_t>(*shape) != out.getShape())
    return emitOpError("input shape ")
           << shapeString(in.getShape()) << " does not broadcast to "
           << shapeString(out.getShape());
  return success();
}

SmallVector<Value> BroadcastToOp::buildVJP(OpBuilder &b,
                                           ValueRange resultGrads) {
  return {sumToTypeOf(b, getLoc(), resultGrads[0], getInput())};
}

//===----------------------------------------------------------------------===//
// slice, split, concat
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  RankedTensorType type = tensorType(adaptor.getInput());
  int64_t dim = adaptor.getDim(), start = adaptor.getStart(),
          end = adaptor.getEnd(), step = stepOrDefault(adaptor.getStepAttr());
  if (failed(checkSlice(loc, "slice", type.getShape(), dim, start, end, step)))
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] = sliceLength(start, end, step);
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

SmallVector<Value> SliceOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<SliceGradOp>(getLoc(), getInput().getType(), resultGrads[0],
                                getDimAttr(), getStartAttr(), getEndAttr(),
                                getStepAttr())};
}

LogicalResult SliceGradOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getResult());
  int64_t dim = getDim(), start = getStart(), end = getEnd(), step = getStep();
  if (failed(checkSlice(getLoc(), "slice_grad", in, dim, start, end, step)))
    return failure();
  SmallVector<int64_t> expected(in);
  expected[dim] = sliceLength(start, end, step);
  if (shapeOf(getGrad()) != ArrayRef<int64_t>(expected))
    return emitOpError("gradient shape ")
           << shapeString(shapeOf(getGrad())) << " is not the slice shape "
           << shapeString(expected);
  return success();
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  RankedTensorType type = tensorType(adaptor.getInput());
  int64_t dim = adaptor.getDim();
  if (dim < 0 || dim >= type.getRank())
    return emitOptionalError(loc, "split: dim ", dim, " is out of range for ",
                             shapeString(type.getShape()));
  int64_t total = 0;
  for (int64_t size : adaptor.getSizes()) {
    if (size < 0)
      return emitOptionalError(loc, "split: negative size ", size);
    total += size;
  }
  if (total != type.getDimSize(dim))
    return emitOptionalError(loc, "split: sizes ",
                             shapeString(adaptor.getSizes()),
                             " do not add up to dimension ", dim, " of ",
                             shapeString(type.getShape()));
  for (int64_t size : adaptor.getSizes()) {
    SmallVector<int64_t> shape(type.getShape());
    shape[dim] = size;
    types.push_back(RankedTensorType::get(shape, type.getElementType()));
  }
  return success();
}

SmallVector<Value> SplitOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  SmallVector<Value> pieces;
  for (auto [result, grad] : llvm::zip(getResults(), resultGrads))
    pieces.push_back(grad ? grad
                          : b.create<FillOp>(getLoc(), result.getType(),
                                             b.getF32FloatAttr(0.0f))
                                .getResult());
  if (pieces.size() == 1)
    return {pieces[0]};
  return {b.create<ConcatOp>(getLoc(), pieces, getDimAttr())};
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return emitOptionalError(loc, "concat: needs at least one operand");
  RankedTensorType first = tensorType(inputs[0]);
  int64_t dim = adaptor.getDim();
  if (dim < 0 || dim >= first.getRank())
    return emitOptionalError(loc, "concat: dim ", dim, " is out of range for ",
                             shapeString(first.getShape()));
  SmallVector<int64_t> shape(first.getShape());
  shape[dim] = 0;
  for (Value v : inputs) {
    RankedTensorType type = tensorType(v);
    SmallVector<int64_t> other(type.getShape());
    if (type.getElementType() != first.getElementType() ||
        type.getRank() != first.getRank())
      return emitOptionalError(loc, "concat: operands ", first, " and ", type,
                               " differ in element type or rank");
    shape[dim] += other[dim];
    other[dim] = 0;
    SmallVector<int64_t> expected(first.getShape());
    expected[dim] = 0;
    if (other != expected)
      return emitOptionalError(loc, "concat: operand shapes ",
                               shapeString(first.getShape()), " and ",
                               shapeString(type.getShape()),
                               " differ outside dimension ", dim);
  }
  types.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

SmallVector<Value> ConcatOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  SmallVector<int64_t> sizes;
  int64_t dim = getDim();
  for (Value v : getInputs())
    sizes.push_back(shapeOf(v)[dim]);
  if (sizes.size() == 1)
    return {resultGrads[0]};
  auto split = b.create<SplitOp>(getLoc(), resultGrads[0], getDimAttr(),
                                 b.getDenseI64ArrayAttr(sizes));
  return SmallVector<Value>(split.getResults());
}

//===----------------------------------------------------------------------===//
// nll_loss
//===----------------------------------------------------------------------===//

static LogicalResult checkNLLLoss(std::optional<Location> loc,
                                  ArrayRef<int64_t> x, ArrayRef<int64_t> y) {
  if (x.size() != 2)
    return emitOptionalError(loc, "nll_loss: expected input [N, C], got ",
                             shapeString(x));
  if (y.size() != 1 || y[0] != x[0])
    return emitOptionalError(loc, "nll_loss: labels ", shapeString(y),
                             " do not match input ", shapeString(x),
                             " (expected [", x[0], "])");
  return success();
}

LogicalResult NLLLossOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  if (failed(checkNLLLoss(loc, shapeOf(adaptor.getInput()),
                          shapeOf(adaptor.getLabels()))))
    return failure();
  types.push_back(f32Tensor(ctx, {}));
  return success();
}

SmallVector<Value> NLLLossOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Value dx = b.create<NLLLossGradOp>(getLoc(), getInput().getType(),
                                     resultGrads[0], getLabels());
  return {dx, Value()};
}

LogicalResult NLLLossGradOp::verify() {
  return checkNLLLoss(getLoc(), shapeOf(getResult()), shapeOf(getLabels()));
}
