//===- NNLinalgOps.cpp - Matrix products: types, VJPs ---------------------===//
//
// The methods of the ops in NNLinalgOps.td (the op classes are generated into
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
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace dpc::nn;

/// op(lhs) @ op(rhs); the flags are needed up front for type inference.
static Value matmul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                    bool transposeLhs, bool transposeRhs) {
  return b.create<MatmulOp>(loc, lhs, rhs,
                            transposeLhs ? b.getUnitAttr() : nullptr,
                            transposeRhs ? b.getUnitAttr() : nullptr);
}

/// `v` viewed as the matrix [numel / cols, cols] (nn.reshape is free).
static Value asMatrix(OpBuilder &b, Location loc, Value v, int64_t cols) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() == 2)
    return v;
  auto matrix = RankedTensorType::get({type.getNumElements() / cols, cols},
                                      type.getElementType());
  return b.create<ReshapeOp>(loc, matrix, v);
}

//===----------------------------------------------------------------------===//
// linear
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> x = shapeOf(adaptor.getInput());
  ArrayRef<int64_t> w = shapeOf(adaptor.getWeight());
  if (getElementTypeOrSelf(adaptor.getInput().getType()) !=
      getElementTypeOrSelf(adaptor.getWeight().getType()))
    return emitOptionalError(loc, "linear: input and weight must have one "
                                  "element type (f32, f64, or bf16 both)");
  if (x.empty() || w.size() != 2)
    return emitOptionalError(loc,
                             "linear: expected input [..., K] and "
                             "weight [N, K], got input ",
                             shapeString(x), " and weight ", shapeString(w));
  if (x.back() != w[1])
    return emitOptionalError(
        loc, "linear: input has ", x.back(), " features (shape ",
        shapeString(x), ") but the weight ", shapeString(w), " expects ", w[1]);
  if (Value bias = adaptor.getBias()) {
    ArrayRef<int64_t> b = shapeOf(bias);
    if (b.size() != 1 || b[0] != w[0])
      return emitOptionalError(loc, "linear: bias shape ", shapeString(b),
                               " does not match ", w[0], " output features");
  }
  SmallVector<int64_t> shape(x.drop_back());
  shape.push_back(w[0]);
  types.push_back(computeTensor(adaptor.getInput(), shape));
  return success();
}

SmallVector<Value> LinearOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  // y = x W^T + b:  dx = dy W,  dW = dy^T x,  db = sum over rows of dy,
  // with the leading dimensions of x and dy flattened into rows.
  auto w = cast<RankedTensorType>(getWeight().getType());
  Value dy2 = asMatrix(b, loc, dy, w.getDimSize(0));
  Value x2 = asMatrix(b, loc, getInput(), w.getDimSize(1));
  Value dx = matmul(b, loc, dy2, getWeight(), false, false);
  if (dx.getType() != getInput().getType())
    dx = b.create<ReshapeOp>(loc, getInput().getType(), dx);
  Value dw = matmul(b, loc, dy2, x2, true, false);
  SmallVector<Value> grads = {dx, dw};
  if (getBias())
    grads.push_back(b.create<SumToOp>(loc, getBias().getType(), dy));
  return grads;
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

bool MatmulOp::isSingleGemm() {
  return shapeOf(getResult()).size() == 2 ||
         (shapeOf(getRhs()).size() == 2 && !getTransposeLhs());
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> a = shapeOf(adaptor.getLhs());
  ArrayRef<int64_t> b = shapeOf(adaptor.getRhs());
  if (getElementTypeOrSelf(adaptor.getLhs().getType()) !=
      getElementTypeOrSelf(adaptor.getRhs().getType()))
    return emitOptionalError(loc, "matmul: operands must have one element "
                                  "type (f32, f64, or bf16 both)");
  if (a.size() < 2 || b.size() < 2)
    return emitOptionalError(loc, "matmul: operands need rank >= 2, got ",
                             shapeString(a), " and ", shapeString(b));
  bool ta = adaptor.getTransposeLhs(), tb = adaptor.getTransposeRhs();
  size_t ra = a.size(), rb = b.size();
  int64_t m = ta ? a[ra - 1] : a[ra - 2], k = ta ? a[ra - 2] : a[ra - 1];
  int64_t kb = tb ? b[rb - 1] : b[rb - 2], n = tb ? b[rb - 2] : b[rb - 1];
  if (k != kb)
    return emitOptionalError(
        loc, "matmul: inner dimensions differ: ", shapeString(a),
        (ta ? "^T" : ""), " @ ", shapeString(b), (tb ? "^T" : ""));
  auto batch = broadcastShapes(a.drop_back(2), b.drop_back(2));
  if (failed(batch))
    return emitOptionalError(loc, "matmul: batch dimensions of ",
                             shapeString(a), " and ", shapeString(b),
                             " do not broadcast");
  SmallVector<int64_t> shape(*batch);
  shape.append({m, n});
  types.push_back(computeTensor(adaptor.getLhs(), shape));
  return success();
}

SmallVector<Value> MatmulOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dc = resultGrads[0];
  bool ta = getTransposeLhs(), tb = getTransposeRhs();
  // C = op(A) op(B):  d op(A) = dC op(B)^T,  d op(B) = op(A)^T dC; a
  // transposed operand gets the transpose of that, written as a product in
  // the other order so that no transpose is materialized.
  // Batched operands: the same per batch element; an operand whose batch
  // dimensions were broadcast gets its gradient summed back.
  Value lhs = getLhs(), rhs = getRhs();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  Value da = ta ? matmul(b, loc, rhs, dc, tb, true)
                : matmul(b, loc, dc, rhs, false, !tb);
  Value db;
  if (rhsType.getRank() == 2 && lhsType.getRank() > 2 && !ta) {
    // [..., M, K] @ [K, N]: the rows of all batch elements form one matrix,
    // so the rhs gradient is one GEMM instead of a batch summed afterwards.
    int64_t k = lhsType.getShape().back();
    int64_t n = cast<RankedTensorType>(dc.getType()).getShape().back();
    Value lhs2 = asMatrix(b, loc, lhs, k), dc2 = asMatrix(b, loc, dc, n);
    db = tb ? matmul(b, loc, dc2, lhs2, true, false)
            : matmul(b, loc, lhs2, dc2, true, false);
  } else {
    db = tb ? matmul(b, loc, dc, lhs, true, ta)
            : matmul(b, loc, lhs, dc, !ta, false);
  }
  return {sumToTypeOf(b, loc, da, lhs), sumToTypeOf(b, loc, db, rhs)};
}
