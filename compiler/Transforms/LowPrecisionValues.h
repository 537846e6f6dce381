//===- LowPrecisionValues.h - float32 values that are 16-bit ----*- C++ -*-===//
//
// Under --precision bf16|fp16 dpc computes on float32 tensors that hold
// values of the autocast's 16-bit type (compiler/Import/Autocast.cpp). The
// passes that keep such values in 16 bits (dpc-save-low-precision,
// dpc-bf16-kernels) find them here, as the importer does
// (Importer::isLowPrecision): the results of the rounding op and of ops
// that only move or select such values (nn::holdsOperandValues).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_TRANSFORMS_LOWPRECISIONVALUES_H
#define DPC_COMPILER_TRANSFORMS_LOWPRECISIONVALUES_H

#include "dialects/NN/IR/NNOps.h"

#include "llvm/ADT/DenseSet.h"

namespace dpc {

/// The 16-bit values among the results of `ops` (in program order):
/// results of `isSource` ops, and of ops that hold only values of their
/// tensor operands when those are all 16-bit values.
template <typename Range, typename IsSource>
llvm::DenseSet<mlir::Value> findLowPrecisionValues(Range &&ops,
                                                   IsSource isSource) {
  llvm::DenseSet<mlir::Value> values;
  for (mlir::Operation &op : ops) {
    bool lowPrecision =
        isSource(&op) ||
        (nn::holdsOperandValues(&op, /*selections=*/true) &&
         llvm::all_of(op.getOperands(), [&](mlir::Value v) {
           return !mlir::isa<mlir::RankedTensorType>(v.getType()) ||
                  values.contains(v);
         }));
    if (lowPrecision)
      values.insert(op.result_begin(), op.result_end());
  }
  return values;
}

} // namespace dpc

#endif // DPC_COMPILER_TRANSFORMS_LOWPRECISIONVALUES_H
