//===- NNVJPBuilders.h - Ops the VJPs of several families build -*- C++ -*-===//
//
// Small builders that the vector-Jacobian products of more than one op
// family (NN<Family>Ops.cpp) share, written once.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_DIALECTS_NN_IR_NNVJPBUILDERS_H
#define DPC_DIALECTS_NN_IR_NNVJPBUILDERS_H

#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"

namespace dpc::nn {

/// Sums `grad` down to the type of `operand` when a broadcast expanded it.
inline mlir::Value sumToTypeOf(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::Value grad, mlir::Value operand) {
  if (grad.getType() == operand.getType())
    return grad;
  return b.create<SumToOp>(loc, operand.getType(), grad);
}

/// `grad * factor`, or `grad` itself when the factor is 1; the factor is
/// rounded to float32 for a float32 gradient (as torch's float32 kernels
/// take a Python float), kept in float64 for a float64 one.
inline mlir::Value scaled(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value grad, double factor) {
  if (factor == 1.0)
    return grad;
  return b.create<ScaleOp>(loc, grad, floatAttrFor(grad.getType(), factor));
}

} // namespace dpc::nn

#endif // DPC_DIALECTS_NN_IR_NNVJPBUILDERS_H
