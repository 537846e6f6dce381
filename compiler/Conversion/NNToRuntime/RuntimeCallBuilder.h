//===- RuntimeCallBuilder.h - Emitting dpcrt_* calls ------------*- C++ -*-===//
//
// dpc-lower-to-llvm turns each op of the planned @train_step into calls of
// runtime kernels. Each op family registers how its ops are lowered
// (Lower<Family>Ops.cpp, populate<Family>Lowerings); this header is what
// those files share: a builder that knows the pointer of every tensor value
// and emits constants, constant shape arrays and kernel calls, and the table
// of lowerings the families fill.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_CONVERSION_NNTORUNTIME_RUNTIMECALLBUILDER_H
#define DPC_COMPILER_CONVERSION_NNTORUNTIME_RUNTIMECALLBUILDER_H

#include "compiler/TrainStep/StepLayout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <optional>

namespace dpc {

class RuntimeCallBuilder {
public:
  /// `symbolPrefix` starts the names of the module-level constants it
  /// creates, distinct for each step lowered into one module.
  RuntimeCallBuilder(mlir::ModuleOp module, mlir::Value ctx,
                     mlir::OpBuilder &builder,
                     llvm::StringRef symbolPrefix = "__dpc_dims_");

  /// Constants of the C types of abi.h.
  mlir::Value i64(int64_t v);
  mlir::Value i32(int32_t v);
  mlir::Value f32(float v);
  mlir::Value f32(const llvm::APFloat &v) { return f32(v.convertToFloat()); }
  mlir::Value f64(double v);
  mlir::Value f64(const llvm::APFloat &v) { return f64(v.convertToDouble()); }
  /// A float scalar argument of a kernel that computes on tensor value
  /// `like`: a double for a float64 tensor (its kernel_f64 takes one), else
  /// `v` rounded to float.
  mlir::Value floatArg(mlir::Value like, double v);
  mlir::Value floatArg(mlir::Value like, const llvm::APFloat &v);
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
  std::string symbolPrefix;
  unsigned numConstantArrays = 0;
  bool callFailed = false;
};

/// Helpers for shapes.
int64_t getNumElements(mlir::Value v);
llvm::ArrayRef<int64_t> getShape(mlir::Value v);
/// Whether a tensor value holds bfloat16: the operands that select the
/// _bf16 kernels (and nn.pack_saved's and nn.unpack_saved's 16-bit side).
bool isBFloat16(mlir::Value v);
/// Whether a tensor value holds float64 (a model.double() model): the
/// values that select the _f64 kernels.
bool isFloat64(mlir::Value v);
/// The float kernel `name` (e.g. "dpcrt_fill") for tensor value `like`:
/// "dpcrt_fill_f64" for a float64 tensor, else "dpcrt_fill_f32".
std::string floatKernel(llvm::StringRef name, mlir::Value like);
/// Row-major element strides of `shape` right-aligned to `target`'s rank,
/// 0 along dimensions that `shape` broadcasts (size 1 or missing).
llvm::SmallVector<int64_t> getBroadcastStrides(llvm::ArrayRef<int64_t> shape,
                                               llvm::ArrayRef<int64_t> target);
/// The arena offset the memory plan gave result `v` (-1: none of its own).
int64_t getPlannedOffset(mlir::Value v);

/// Emits the runtime calls of one op: success(), or failure() after emitting
/// an error. The result pointers of ops with planned storage are already set
/// when it runs.
using OpLowering =
    std::function<mlir::LogicalResult(RuntimeCallBuilder &, mlir::Operation *)>;

/// The ops dpc-lower-to-llvm can lower, filled by the op families'
/// populate<Family>Lowerings: one lowering per op (by its TypeID), and one
/// per op interface for the families whose ops are records (every op with
/// the interface, e.g. ElementwiseUnaryOpInterface). An op's own lowering
/// takes precedence over its interface's.
///
/// Not MLIR conversion patterns: lowering walks the ops in their schedule
/// order, building one new LLVM function whose values are the pointers in
/// RuntimeCallBuilder (tensors become arena pointers, not converted types),
/// and --mode dp outlines the calls of concurrent stages as they are
/// emitted; a pattern driver would apply in its own order.
class RuntimeLowerings {
public:
  /// Lowers each op of `OpTys` with `lower(RuntimeCallBuilder &, OpTy)`.
  template <typename... OpTys, typename Fn> void add(Fn lower) {
    (addOne<OpTys>(lower), ...);
  }
  /// Lowers every op with interface `Interface` that has no lowering of its
  /// own with `lower(RuntimeCallBuilder &, Interface)`.
  template <typename Interface, typename Fn> void addForInterface(Fn lower) {
    interfaceLowerings.emplace_back(
        mlir::TypeID::get<Interface>(),
        [lower](RuntimeCallBuilder &rt, mlir::Operation *op) {
          return lower(rt, llvm::cast<Interface>(op));
        });
  }

  /// The lowering of `op`, or null when no family lowers it.
  const OpLowering *lookup(mlir::Operation *op) const;

private:
  template <typename OpTy, typename Fn> void addOne(Fn lower) {
    [[maybe_unused]] bool inserted =
        opLowerings
            .try_emplace(mlir::TypeID::get<OpTy>(),
                         [lower](RuntimeCallBuilder &rt, mlir::Operation *op) {
                           return lower(rt, llvm::cast<OpTy>(op));
                         })
            .second;
    assert(inserted && "an op is lowered by two families");
  }

  llvm::DenseMap<mlir::TypeID, OpLowering> opLowerings;
  llvm::SmallVector<std::pair<mlir::TypeID, OpLowering>> interfaceLowerings;
};

/// Each op family adds the lowerings of its ops (Lower<Family>Ops.cpp).
void populateElementwiseLowerings(RuntimeLowerings &lowerings);
void populateLinalgLowerings(RuntimeLowerings &lowerings);
void populateIndexingLowerings(RuntimeLowerings &lowerings);
void populateReductionLowerings(RuntimeLowerings &lowerings);
void populateNormalizationLowerings(RuntimeLowerings &lowerings);
void populateConvPoolLowerings(RuntimeLowerings &lowerings);
void populateShapeLowerings(RuntimeLowerings &lowerings);
void populateLossLowerings(RuntimeLowerings &lowerings);
void populateRandomLowerings(RuntimeLowerings &lowerings);
void populateOptimizerLowerings(RuntimeLowerings &lowerings);
void populateCollectiveLowerings(RuntimeLowerings &lowerings);

/// Whether the optimizer update `op` reads its learning rate from the
/// runtime: @train_step has parameter groups (kParamGroupsAttr).
bool readsRuntimeLearningRate(mlir::Operation *op);
/// The current learning rate of parameter group `group`, an f64 value read
/// with dpcrt_learning_rate.
mlir::Value runtimeLearningRate(RuntimeCallBuilder &rt, int32_t group);
/// The current momentum (SGD) or beta1 (Adam) of parameter group `group`,
/// an f64 value read with dpcrt_momentum.
mlir::Value runtimeMomentum(RuntimeCallBuilder &rt, int32_t group);

} // namespace dpc

#endif // DPC_COMPILER_CONVERSION_NNTORUNTIME_RUNTIMECALLBUILDER_H
