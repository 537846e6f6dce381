//===- NNShapeUtils.h - Shape helpers of the nn ops' C++ --------*- C++ -*-===//
//
// What the ops' type inference, verifiers and VJPs (NN<Family>Ops.cpp) use
// to read shapes and to print them in diagnostics, written once.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_DIALECTS_NN_IR_NNSHAPEUTILS_H
#define DPC_DIALECTS_NN_IR_NNSHAPEUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Value.h"

#include <string>

namespace dpc::nn {

/// A statically shaped f32 tensor type.
inline mlir::RankedTensorType f32Tensor(mlir::MLIRContext *ctx,
                                        llvm::ArrayRef<int64_t> shape) {
  return mlir::RankedTensorType::get(shape, mlir::Float32Type::get(ctx));
}

/// The ranked tensor type of a value.
inline mlir::RankedTensorType tensorType(mlir::Value v);

/// A statically shaped tensor type of the elements an op computes on `like`
/// in: float64 for a float64 tensor (a model.double() model), else float32
/// (also for a bfloat16 operand, whose products are summed in float32).
inline mlir::RankedTensorType computeTensor(mlir::Value like,
                                            llvm::ArrayRef<int64_t> shape) {
  mlir::Type element =
      llvm::cast<mlir::RankedTensorType>(like.getType()).getElementType();
  return mlir::RankedTensorType::get(
      shape,
      element.isF64() ? element : mlir::Float32Type::get(like.getContext()));
}

/// The ranked tensor type of a value.
inline mlir::RankedTensorType tensorType(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType());
}

/// The shape of a ranked tensor value or type.
inline llvm::ArrayRef<int64_t> shapeOf(mlir::Type type) {
  return llvm::cast<mlir::RankedTensorType>(type).getShape();
}
inline llvm::ArrayRef<int64_t> shapeOf(mlir::Value v) {
  return shapeOf(v.getType());
}

/// "[2, 3, 4]", as diagnostics print shapes.
inline std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::interleave(
      shape, [&](int64_t d) { s += std::to_string(d); }, [&] { s += ", "; });
  return s + "]";
}

/// NumPy broadcast of two shapes, or failure (defined in NNShapeUtils.cpp).
mlir::FailureOr<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);

/// Result type inference of the broadcasting binary ops: the tensor of the
/// broadcast shape, in lhs's float type (computeTensor; the op's verifier
/// refuses float32 and float64 operands together), or an error naming op
/// `name`.
inline mlir::LogicalResult
inferBroadcast(mlir::MLIRContext *ctx, std::optional<mlir::Location> loc,
               llvm::StringRef name, mlir::Value lhs, mlir::Value rhs,
               llvm::SmallVectorImpl<mlir::Type> &types) {
  auto shape = broadcastShapes(shapeOf(lhs), shapeOf(rhs));
  if (mlir::failed(shape))
    return mlir::emitOptionalError(
        loc, name, ": shapes ", shapeString(shapeOf(lhs)), " and ",
        shapeString(shapeOf(rhs)), " do not broadcast");
  types.push_back(computeTensor(lhs, *shape));
  return mlir::success();
}

/// Result type inference of the elementwise backward ops: the gradient's
/// type, which the saved forward value must have too.
inline mlir::LogicalResult
inferElementwiseGrad(std::optional<mlir::Location> loc, llvm::StringRef name,
                     mlir::Value grad, mlir::Value saved,
                     llvm::SmallVectorImpl<mlir::Type> &types) {
  if (grad.getType() != saved.getType())
    return mlir::emitOptionalError(loc, name, ": gradient ", grad.getType(),
                                   " and saved value ", saved.getType(),
                                   " differ");
  types.push_back(grad.getType());
  return mlir::success();
}

} // namespace dpc::nn

#endif // DPC_DIALECTS_NN_IR_NNSHAPEUTILS_H
