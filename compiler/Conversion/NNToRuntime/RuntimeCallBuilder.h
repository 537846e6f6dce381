//===- RuntimeCallBuilder.h - Emitting dpcrt_* calls ------------*- C++ -*-===//
//
// dpc-lower-to-llvm turns each op of the planned @train_step into calls of
// runtime kernels. The ops are lowered in groups (core, conv, transformer,
// optimizer, ...), one file each; this header is what those files share: a
// builder that knows the pointer of every tensor value and emits constants,
// constant shape arrays and kernel calls.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_CONVERSION_NNTORUNTIME_RUNTIMECALLBUILDER_H
#define DPC_COMPILER_CONVERSION_NNTORUNTIME_RUNTIMECALLBUILDER_H

#include "compiler/TrainStep/StepLayout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <optional>

namespace dpc {

class RuntimeCallBuilder {
public:
  RuntimeCallBuilder(mlir::ModuleOp module, mlir::Value ctx,
                     mlir::OpBuilder &builder);

  /// Constants of the C types of abi.h.
  mlir::Value i64(int64_t v);
  mlir::Value i32(int32_t v);
  mlir::Value f32(float v);
  mlir::Value f32(const llvm::APFloat &v) { return f32(v.convertToFloat()); }
  mlir::Value nullPtr();
  /// `base + bytes`. The offset is an i64 value: a constant GEP index is
  /// 32-bit in the LLVM dialect and would truncate offsets of 2 GiB or more.
  mlir::Value offsetPtr(mlir::Value base, int64_t bytes);

  /// The address of a constant int64 array (shapes, strides) in the module.
  mlir::Value constantArray(llvm::ArrayRef<int64_t> values);

  /// Emits `name(ctx, args...)`, declaring the kernel on first use with its
  /// signature in runtime/include/dpc/kernels.def; returns the result of a
  /// kernel that has one. A call whose arguments (or `resultType`, when
  /// given) do not match that signature is a compiler bug: it emits an
  /// error at the current location and sets hasFailedCall().
  mlir::Value call(llvm::StringRef name, mlir::ValueRange args,
                   mlir::Type resultType = {});
  /// Whether a call did not match its kernel's signature.
  bool hasFailedCall() const { return callFailed; }

  /// The pointer to the storage of tensor value `v`.
  mlir::Value ptr(mlir::Value v) const { return pointers.lookup(v); }
  /// Records that `v` lives at `pointer` (in-place results, aliases).
  void setPtr(mlir::Value v, mlir::Value pointer) { pointers[v] = pointer; }

  /// Auxiliary per-op state, e.g. the handle of an in-flight collective.
  mlir::Value lookupHandle(mlir::Value token) const {
    return handles.lookup(token);
  }
  void setHandle(mlir::Value token, mlir::Value handle) {
    handles[token] = handle;
  }

  mlir::OpBuilder &builder() { return b; }
  mlir::Type ptrType() const { return pointerType; }
  void setLoc(mlir::Location l) { loc = l; }
  mlir::Location getLoc() const { return loc; }

private:
  mlir::ModuleOp module;
  mlir::Value ctx;
  mlir::OpBuilder &b;
  mlir::Type pointerType;
  mlir::Location loc;
  llvm::DenseMap<mlir::Value, mlir::Value> pointers;
  llvm::DenseMap<mlir::Value, mlir::Value> handles;
  unsigned numConstantArrays = 0;
  bool callFailed = false;
};

/// Helpers for shapes.
int64_t getNumElements(mlir::Value v);
llvm::ArrayRef<int64_t> getShape(mlir::Value v);
/// Row-major element strides of `shape` right-aligned to `target`'s rank,
/// 0 along dimensions that `shape` broadcasts (size 1 or missing).
llvm::SmallVector<int64_t> getBroadcastStrides(llvm::ArrayRef<int64_t> shape,
                                               llvm::ArrayRef<int64_t> target);
/// The arena offset the memory plan gave result `v` (-1: none of its own).
int64_t getPlannedOffset(mlir::Value v);

/// Lowering of one group of ops. Each returns std::nullopt when `op` is not
/// in its group, success() when it emitted the calls, failure() after
/// emitting an error. The result pointers of ops with planned storage are
/// already set when these run.
std::optional<mlir::LogicalResult> lowerCoreOp(RuntimeCallBuilder &rt,
                                               mlir::Operation *op);
std::optional<mlir::LogicalResult> lowerCollectiveOp(RuntimeCallBuilder &rt,
                                                     mlir::Operation *op);
std::optional<mlir::LogicalResult> lowerConvOp(RuntimeCallBuilder &rt,
                                               mlir::Operation *op);
std::optional<mlir::LogicalResult> lowerTransformerOp(RuntimeCallBuilder &rt,
                                                      mlir::Operation *op);
std::optional<mlir::LogicalResult> lowerOptimizerOp(RuntimeCallBuilder &rt,
                                                    mlir::Operation *op);

/// Whether the optimizer update `op` reads its learning rate from the
/// runtime: @train_step has parameter groups (kParamGroupsAttr).
bool readsRuntimeLearningRate(mlir::Operation *op);
/// The current learning rate of parameter group `group`, an f64 value read
/// with dpcrt_learning_rate.
mlir::Value runtimeLearningRate(RuntimeCallBuilder &rt, int32_t group);

} // namespace dpc

#endif // DPC_COMPILER_CONVERSION_NNTORUNTIME_RUNTIMECALLBUILDER_H
