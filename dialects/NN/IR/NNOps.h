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

namespace dpc::nn {

/// Marks the ops that have float64 kernels (NN_HasFloat64Kernels).
template <typename ConcreteType>
class HasFloat64Kernels
    : public mlir::OpTrait::TraitBase<ConcreteType, HasFloat64Kernels> {};

/// Checks an op's float element types (NNFloat64.cpp): float64 tensors
/// only where the op has float64 kernels, never float32 and float64 tensors
/// together, and a float64 op's float constants (factor, alpha, fill value,
/// learning rate) float64 too, not rounded to float32.
mlir::LogicalResult verifyFloatElementTypes(mlir::Operation *op,
                                            bool hasFloat64Kernels);

/// Every nn op's check of its float element types (NN_Float64Checked).
template <typename ConcreteType>
class Float64Checked
    : public mlir::OpTrait::TraitBase<ConcreteType, Float64Checked> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return verifyFloatElementTypes(
        op, ConcreteType::template hasTrait<HasFloat64Kernels>());
  }
};

/// A float attribute in the precision of `type`'s elements (a tensor type
/// or an element type): float64 for float64 tensors, else float32, as an
/// op computing on them holds its constants.
mlir::FloatAttr floatAttrFor(mlir::Type type, double value);

} // namespace dpc::nn

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
