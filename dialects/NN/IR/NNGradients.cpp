//===- NNGradients.cpp - Vector-Jacobian products of nn ops ---------------===//
//
// Each differentiable op builds the gradients of its operands from the
// gradient of its result, using nn ops only, so the backward pass is again
// ordinary nn IR that later passes (bucketing, memory planning, lowering)
// treat like the forward pass.
//
//===----------------------------------------------------------------------===//

#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace dpc::nn;

/// Sums `grad` down to the type of `operand` when a broadcast expanded it.
static Value sumToTypeOf(OpBuilder &b, Location loc, Value grad,
                         Value operand) {
  if (grad.getType() == operand.getType())
    return grad;
  return b.create<SumToOp>(loc, operand.getType(), grad);
}

/// op(lhs) @ op(rhs); the flags are needed up front for type inference.
static Value matmul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                    bool transposeLhs, bool transposeRhs) {
  return b.create<MatmulOp>(loc, lhs, rhs,
                            transposeLhs ? b.getUnitAttr() : nullptr,
                            transposeRhs ? b.getUnitAttr() : nullptr);
}

static Value scaled(OpBuilder &b, Location loc, Value grad, float factor) {
  if (factor == 1.0f)
    return grad;
  return b.create<ScaleOp>(loc, grad, b.getF32FloatAttr(factor));
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

SmallVector<Value> TransposeOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<TransposeOp>(getLoc(), resultGrads[0])};
}

SmallVector<Value> AddOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  float alpha = getAlpha().convertToFloat();
  return {sumToTypeOf(b, loc, dy, getLhs()),
          sumToTypeOf(b, loc, scaled(b, loc, dy, alpha), getRhs())};
}

SmallVector<Value> SubOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  float alpha = getAlpha().convertToFloat();
  return {sumToTypeOf(b, loc, dy, getLhs()),
          sumToTypeOf(b, loc, scaled(b, loc, dy, -alpha), getRhs())};
}

SmallVector<Value> MulOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value da = b.create<MulOp>(loc, dy, getRhs());
  Value db = b.create<MulOp>(loc, dy, getLhs());
  return {sumToTypeOf(b, loc, da, getLhs()), sumToTypeOf(b, loc, db, getRhs())};
}

SmallVector<Value> ReshapeOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<ReshapeOp>(getLoc(), getInput().getType(), resultGrads[0])};
}

SmallVector<Value> ReluOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<ReluGradOp>(getLoc(), resultGrads[0], getInput())};
}

SmallVector<Value> TanhOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<TanhGradOp>(getLoc(), resultGrads[0], getResult())};
}

SmallVector<Value> SigmoidOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {b.create<SigmoidGradOp>(getLoc(), resultGrads[0], getResult())};
}

SmallVector<Value> ExpOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  // torch's exp backward: grad * result.
  return {b.create<MulOp>(getLoc(), resultGrads[0], getResult())};
}

SmallVector<Value> ScaleOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  return {scaled(b, getLoc(), resultGrads[0], getFactor().convertToFloat())};
}

SmallVector<Value> CrossEntropyOp::buildVJP(OpBuilder &b,
                                            ValueRange resultGrads) {
  Value dlogits = b.create<CrossEntropyGradOp>(getLoc(), resultGrads[0],
                                               getLogits(), getLabels());
  return {dlogits, Value()};
}

SmallVector<Value> MSELossOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  Location loc = getLoc();
  Value dinput =
      b.create<MSELossGradOp>(loc, resultGrads[0], getInput(), getTarget());
  return {dinput, scaled(b, loc, dinput, -1.0f)};
}
