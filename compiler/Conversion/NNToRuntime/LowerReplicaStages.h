//===- LowerReplicaStages.h - --mode dp in dpc-lower-to-llvm ----*- C++ -*-===//
//
// Part of dpc-lower-to-llvm: the outlining of concurrent stages
// (dpc-dp-phases) into one function per replica, run by dpcrt_run_replicas.
// The dp ops of single-process data parallelism themselves are lowered with
// the Collective family (LowerCollectiveOps.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_CONVERSION_NNTORUNTIME_LOWERREPLICASTAGES_H
#define DPC_COMPILER_CONVERSION_NNTORUNTIME_LOWERREPLICASTAGES_H

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"

namespace dpc {

/// Outlines the concurrent stages of a --mode dp step while
/// lowerTrainStep lowers it op by op into the step function. Every op is
/// first lowered into the step function as usual; the calls of an op of a
/// concurrent stage (an op with `dp.replica = r` and a `dp.stage`) are then
/// moved into replica r's function of that stage,
///   llvm.func internal @dpc_stage<k>_replica<r>(ctx, env),
/// while ops that only compute pointers (views) stay in the step function.
/// When the stage ends, the step function stores every value the replica
/// functions use from it into an environment array and calls
///   dpcrt_run_replicas(ctx, n, fns, env),
/// which runs the n functions concurrently and returns when all are done.
/// Ops without `dp.stage` (or without a replica) are left where they are.
class ReplicaStageOutliner {
public:
  ReplicaStageOutliner(mlir::ModuleOp module, mlir::LLVM::LLVMFuncOp step,
                       RuntimeCallBuilder &rt);

  /// Call before lowering each op (null after the last): ends the pending
  /// concurrent stage when `op` is not part of it.
  mlir::LogicalResult enter(mlir::Operation *op);
  /// Lowers `op` with `lowerOp` and outlines its calls if it belongs to a
  /// concurrent stage.
  mlir::LogicalResult lower(mlir::Operation *op,
                            llvm::function_ref<mlir::LogicalResult()> lowerOp);

private:
  mlir::LLVM::LLVMFuncOp getOrCreateReplicaFunction(int64_t replica);
  mlir::LogicalResult endStage();

  mlir::ModuleOp module;
  mlir::LLVM::LLVMFuncOp step;
  RuntimeCallBuilder &rt;
  /// The concurrent stage being outlined and its replica functions.
  std::optional<int64_t> stage;
  mlir::Location stageLoc;
  llvm::SmallVector<mlir::LLVM::LLVMFuncOp> functions;
};

} // namespace dpc

#endif // DPC_COMPILER_CONVERSION_NNTORUNTIME_LOWERREPLICASTAGES_H
