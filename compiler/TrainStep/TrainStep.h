//===- TrainStep.h - Conventions of the @train_step function ----*- C++ -*-===//
//
// The passes communicate through the signature of one function,
// `@train_step`: every argument and result carries `dpc.kind` (what it is)
// and `dpc.name` (its state_dict or input name). This header names those
// conventions once.
//
// Result order: the loss is always result 0; buffers the forward updates in
// place (BatchNorm's running statistics and num_batches_tracked, kind
// "buffer", in argument order) are always the last results. A pass that
// rebuilds the result list puts its own results (gradients; updated
// parameters, then optimizer state) between the two and keeps every result
// it does not consume, in order, at the end:
//   build-train-step  (loss, buffers...)
//   autodiff          (loss, gradients..., buffers...)
//   sgd / adam        (loss, parameters..., optimizer state..., buffers...)
// Every result other than the loss is computed in place in the storage of
// the argument of the same kind and name (dpc-lower-to-llvm checks this).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_TRAINSTEP_TRAINSTEP_H
#define DPC_COMPILER_TRAINSTEP_TRAINSTEP_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace dpc {

/// Names of the function the importer produces and of the training step.
inline constexpr llvm::StringLiteral kForwardFuncName = "forward";
inline constexpr llvm::StringLiteral kTrainStepFuncName = "train_step";
/// --mode dp: the forward imported for a smaller last chunk (shapes are
/// static), beside @forward for the others; dpc-dp-replicate consumes it.
inline constexpr llvm::StringLiteral kLastForwardFuncName = "forward_last";

/// The forward as model.eval() runs it (importEvalForward), and the
/// evaluation step dpc-build-train-step makes of it:
/// `@eval_step(inputs..., parameters..., buffers..., label) -> (loss,
/// output)`, forward and loss only, lowered to dpc_model_eval_step.
inline constexpr llvm::StringLiteral kEvalForwardFuncName = "eval_forward";
inline constexpr llvm::StringLiteral kEvalStepFuncName = "eval_step";

/// Argument and result attributes.
inline constexpr llvm::StringLiteral kKindAttr = "dpc.kind";
inline constexpr llvm::StringLiteral kNameAttr = "dpc.name";
/// On gradients and optimizer state: the parameter they belong to.
inline constexpr llvm::StringLiteral kParameterAttr = "dpc.parameter";
/// On parameters that the loss does not depend on.
inline constexpr llvm::StringLiteral kUnusedAttr = "dpc.unused";

/// --precision bf16|fp16: on the nn.round_bf16 / nn.round_f16 that rounds an
/// op's result to the autocast's 16-bit type (compiler/Import/Autocast.cpp),
/// as opposed to one that casts a float32 operand. What the op's VJP reads
/// of its result is the rounded value, PyTorch's 16-bit result
/// (dpc-autodiff redirects those reads).
inline constexpr llvm::StringLiteral kAutocastResultAttr =
    "dpc.autocast_result";
/// --precision bf16|fp16: on the rounding through which an op reads an
/// operand that is a 16-bit value already: the identity in the forward,
/// there only for its VJP, which rounds the gradient of that one use (as
/// PyTorch rounds each backward kernel's result for a 16-bit input).
/// dpc-autodiff removes it once the VJPs are built.
inline constexpr llvm::StringLiteral kAutocastOperandAttr =
    "dpc.autocast_operand";

/// On the module: the other state_dict names of a tensor reachable under
/// several (an lm head tied to the token embedding), as a dictionary from
/// each such name to the name of the argument that holds the tensor.
inline constexpr llvm::StringLiteral kTiedNamesAttr = "dpc.tied_names";

/// The memory plan: per op, the arena offset of each result (-1: none of
/// its own); on the function, the arena size.
inline constexpr llvm::StringLiteral kOffsetAttr = "dpc.offset";
inline constexpr llvm::StringLiteral kArenaBytesAttr = "dpc.arena_bytes";
/// On @train_step: its parameter groups, [{lr, weight_decay, pattern}, ...]
/// in group order (compiler/Transforms/ParamGroups.h). When present, the
/// optimizer updates read their group's learning rate from the runtime.
inline constexpr llvm::StringLiteral kParamGroupsAttr = "dpc.param_groups";

/// Values of `dpc.kind`.
namespace kind {
inline constexpr llvm::StringLiteral kInput = "input";
inline constexpr llvm::StringLiteral kLabel = "label";
inline constexpr llvm::StringLiteral kParameter = "parameter";
inline constexpr llvm::StringLiteral kBuffer = "buffer";
inline constexpr llvm::StringLiteral kOptimizerState = "optimizer_state";
inline constexpr llvm::StringLiteral kLoss = "loss";
inline constexpr llvm::StringLiteral kGradient = "gradient";
/// A result of @eval_step: the model's output (named "output").
inline constexpr llvm::StringLiteral kOutput = "output";
} // namespace kind

/// Returns the `dpc.kind` of argument `i` / result `i`, or "" when unset.
llvm::StringRef getArgKind(mlir::func::FuncOp func, unsigned i);
llvm::StringRef getResultKind(mlir::func::FuncOp func, unsigned i);
/// Returns the `dpc.name` of argument `i` / result `i`, or "" when unset.
llvm::StringRef getArgName(mlir::func::FuncOp func, unsigned i);
llvm::StringRef getResultName(mlir::func::FuncOp func, unsigned i);

/// Builds the attribute dictionary {dpc.kind = kind, dpc.name = name
/// [, dpc.parameter = parameter]}.
mlir::DictionaryAttr makeSlotAttrs(mlir::MLIRContext *ctx, llvm::StringRef kind,
                                   llvm::StringRef name,
                                   llvm::StringRef parameter = {});

/// Looks up `@name` in `module`; emits an error on the module and returns
/// null when it is missing or is not a single-block function.
mlir::func::FuncOp lookupFunction(mlir::ModuleOp module, llvm::StringRef name);

/// The value whose storage `v` uses: `v` itself, or for results computed in
/// place or as views (updated parameters and optimizer state, dp.wait
/// results, nn.reshape; every op with StorageAliasOpInterface) the owner of
/// the value they alias, followed through chains of aliases.
mlir::Value getStorageOwner(mlir::Value v);
/// Whether `op`'s results that use another value's storage only read it
/// (views: nn.reshape, nn.micro_batch, dp.scatter, dp.replicate) rather than
/// update it in place (optimizer updates, BatchNorm's running statistics),
/// as its StorageAliasOpInterface says.
bool isStorageView(mlir::Operation *op);

/// Size in bytes of a statically shaped tensor type.
int64_t getTensorBytes(mlir::Type type);

} // namespace dpc

#endif // DPC_COMPILER_TRAINSTEP_TRAINSTEP_H
