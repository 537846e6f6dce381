//===- NNShapeOps.cpp - Shape ops: types, folds, VJPs ---------------------===//
//
// The methods of the ops in NNShapeOps.td (the op classes are generated into
// NNOps.cpp.inc, included by NNDialect.cpp). Result types are inferred from
// operands so that the importer reports a mismatch at the model's source
// line; each differentiable op builds its VJP out of nn ops.
//
//===----------------------------------------------------------------------===//

#include "dialects/NN/IR/NNOps.h"
#include "dialects/NN/IR/NNShapeUtils.h"
#include "dialects/NN/IR/NNVJPBuilders.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace dpc::nn;

namespace {

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
// reshape
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if (in.getElementType() != out.getElementType())
    return emitOpError("changes the element type");
  if (in.getNumElements() != out.getNumElements())
    return emitOpError("has ") << in.getNumElements() << " input elements but "
                               << out.getNumElements() << " result elements";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  // reshape(reshape(x)) = reshape(x)
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    setOperand(producer.getInput());
    return getResult();
  }
  return {};
}

Value ReshapeOp::getAliasedValue(unsigned) { return getInput(); }

bool ReshapeOp::isStorageView() { return true; }

SmallVector<Value> ReshapeOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<ReshapeOp>(getLoc(), getInput().getType(), resultGrads[0])};
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> x = shapeOf(adaptor.getInput());
  if (x.size() != 2)
    return emitOptionalError(loc, "transpose: expected a 2-d tensor, got ",
                             shapeString(x));
  types.push_back(computeTensor(adaptor.getInput(), {x[1], x[0]}));
  return success();
}

SmallVector<Value> TransposeOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<TransposeOp>(getLoc(), resultGrads[0])};
}

//===----------------------------------------------------------------------===//
// permute
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

//===----------------------------------------------------------------------===//
// broadcast_to
//===----------------------------------------------------------------------===//

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
// slice
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

//===----------------------------------------------------------------------===//
// split
//===----------------------------------------------------------------------===//

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
    pieces.push_back(grad
                         ? grad
                         : b.create<FillOp>(getLoc(), result.getType(),
                                            floatAttrFor(result.getType(), 0.0))
                               .getResult());
  if (pieces.size() == 1)
    return {pieces[0]};
  return {b.create<ConcatOp>(getLoc(), pieces, getDimAttr())};
}

//===----------------------------------------------------------------------===//
// concat
//===----------------------------------------------------------------------===//

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
// copy
//===----------------------------------------------------------------------===//

LogicalResult CopyOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// detach
//===----------------------------------------------------------------------===//

Value DetachOp::getAliasedValue(unsigned) { return getInput(); }

bool DetachOp::isStorageView() { return true; }

//===----------------------------------------------------------------------===//
// micro_batch
//===----------------------------------------------------------------------===//

LogicalResult MicroBatchOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  auto type = cast<RankedTensorType>(adaptor.getInput().getType());
  // Read the attributes defensively: inference also runs on ops that the
  // verifier has not seen yet.
  DictionaryAttr attrs = adaptor.getAttributes();
  auto indexAttr = attrs ? attrs.getAs<IntegerAttr>("index") : IntegerAttr();
  auto countAttr = attrs ? attrs.getAs<IntegerAttr>("count") : IntegerAttr();
  if (!indexAttr || !countAttr)
    return emitOptionalError(loc, "micro_batch: needs integer 'index' and "
                                  "'count' attributes");
  int64_t index = indexAttr.getInt(), count = countAttr.getInt();
  if (type.getRank() == 0)
    return emitOptionalError(loc, "micro_batch: a scalar has no batch "
                                  "dimension to split");
  if (count <= 0 || type.getDimSize(0) % count != 0)
    return emitOptionalError(loc, "micro_batch: dimension 0 of ", type,
                             " does not split into ", count, " micro-batches");
  if (index < 0 || index >= count)
    return emitOptionalError(loc, "micro_batch: index ", index,
                             " is not in [0, ", count, ")");
  SmallVector<int64_t> shape(type.getShape());
  shape[0] /= count;
  types.push_back(type.clone(shape));
  return success();
}

// Micro-batch k is rows [k*n, (k+1)*n) of the input, read in place.
Value MicroBatchOp::getAliasedValue(unsigned) { return getInput(); }

bool MicroBatchOp::isStorageView() { return true; }
