//===- NNOps.h - Operations of the nn dialect -------------------*- C++ -*-===//

#ifndef DPC_DIALECTS_NN_IR_NNOPS_H
#define DPC_DIALECTS_NN_IR_NNOPS_H

#include "dialects/NN/IR/NNDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "runtime/include/dpc/abi.h" // the runtime kinds on the op records

#include "dialects/NN/IR/NNInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/NN/IR/NNOps.h.inc"

namespace dpc::nn {

/// Returns the NumPy broadcast of two shapes, or failure if they do not
/// broadcast.
mlir::FailureOr<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);

/// Whether every element of `op`'s results is an element of one of its
/// tensor operands: the views and copies (reshape, transpose, permute,
/// broadcast_to, slice, split, copy, detach) and concat; with `selections`
/// also relu and max_pool2d, which select among their input's values (or
/// give 0 / the -inf of padding). What a value's dtype passes through:
/// under autocast such an op of bfloat16 values makes bfloat16 values.
bool holdsOperandValues(mlir::Operation *op, bool selections);

} // namespace dpc::nn

#endif // DPC_DIALECTS_NN_IR_NNOPS_H
