//===- OptimizerStep.h - What the optimizer passes share --------*- C++ -*-===//
//
// dpc-sgd and dpc-adam rewrite @train_step the same way and differ only in
// their update op and its state: both read the loss and the gradients that
// autodiff returns, apply one update per parameter in the order the
// gradients become ready (so that each bucket's updates can start right
// after its all-reduce), add the optimizer state as arguments and return
// (loss, new parameters..., new state..., other results...). This header is
// that common part, and what the passes after them (dpc-grad-scaler,
// dpc-clip-gradients) share to rewrite the gradients the updates read.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_TRANSFORMS_OPTIMIZERSTEP_H
#define DPC_COMPILER_TRANSFORMS_OPTIMIZERSTEP_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace dpc {

/// A parameter and its (averaged) gradient.
struct ParameterGradient {
  mlir::BlockArgument param;
  mlir::Value grad;
};

/// The results of @train_step after autodiff, as an optimizer pass needs
/// them.
struct TrainStepGradients {
  mlir::Value loss;
  /// One entry per parameter with a gradient, in gradient-ready order.
  llvm::SmallVector<ParameterGradient> gradients;
  /// The same parameters in argument order (the order of their state
  /// arguments and results).
  llvm::SmallVector<mlir::BlockArgument> parameters;
  /// Results the optimizer does not consume (updated buffers), with their
  /// attributes; they stay last.
  llvm::SmallVector<mlir::Value> others;
  llvm::SmallVector<mlir::DictionaryAttr> otherAttrs;
};

/// Reads the loss and gradients of `func`; emits an error and fails when a
/// gradient has no parameter argument or there is nothing to update.
mlir::FailureOr<TrainStepGradients> collectGradients(mlir::func::FuncOp func);

/// Appends the optimizer-state argument `<param>.<suffix>` (e.g.
/// `fc.weight.momentum_buffer`) of `param`'s type and returns it.
mlir::BlockArgument addOptimizerState(mlir::func::FuncOp func,
                                      mlir::BlockArgument param,
                                      llvm::StringRef suffix);

/// A parameter's new value and its new optimizer state, each with the
/// suffix of its state argument.
struct ParameterUpdate {
  mlir::Value newParam;
  llvm::SmallVector<std::pair<mlir::Value, std::string>> newState;
};

/// Makes `func` return (loss, new parameters..., new state..., others...):
/// parameters and their state in argument order, tagged as the
/// @train_step convention says. `updates` has an entry for every parameter
/// of `step.parameters`.
void setOptimizerStepResults(
    mlir::func::FuncOp func, const TrainStepGradients &step,
    const llvm::DenseMap<mlir::Value, ParameterUpdate> &updates);

/// The gradient operand of an optimizer update (nn.sgd_update,
/// nn.adam_update).
inline constexpr unsigned kUpdateGradOperand = 1;

/// The optimizer updates of `func` in order; emits "has no optimizer update
/// to <what>; run dpc-sgd or dpc-adam first" and fails when there is none.
mlir::FailureOr<llvm::SmallVector<mlir::Operation *>>
collectUpdates(mlir::func::FuncOp func, llvm::StringRef what);

/// The gradients `updates` read, in their order.
llvm::SmallVector<mlir::Value>
getUpdateGradients(llvm::ArrayRef<mlir::Operation *> updates);

} // namespace dpc

#endif // DPC_COMPILER_TRANSFORMS_OPTIMIZERSTEP_H
