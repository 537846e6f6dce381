//===- StepLayout.h - Slots and op order of a compiled step -----*- C++ -*-===//
//
// What the lowering, the manifest and the schedule must agree on about a
// planned @train_step, written once: which slot holds what, and in which
// order the compiled step runs its ops.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_TRAINSTEP_STEPLAYOUT_H
#define DPC_COMPILER_TRAINSTEP_STEPLAYOUT_H

#include "compiler/TrainStep/TrainStep.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace dpc {

/// The slots of a compiled step, as the runtime passes them to
/// dpc_model_train_step(ctx, slots) (or dpc_model_eval_step): slot i is
/// argument i of the planned @train_step (@eval_step), then come the loss
/// (one f32), the outputs (results of kind "output": the evaluation step's
/// model output) and the arena. The lowering loads them and the manifest
/// records them, both from here.
class StepSlots {
public:
  explicit StepSlots(mlir::func::FuncOp step)
      : numArguments(step.getNumArguments()) {
    for (unsigned i = 0, e = step.getNumResults(); i < e; ++i)
      numOutputs += getResultKind(step, i) == kind::kOutput;
  }
  int64_t argument(unsigned index) const { return index; }
  int64_t loss() const { return numArguments; }
  /// Slot of the `index`-th result of kind "output".
  int64_t output(unsigned index) const { return numArguments + 1 + index; }
  int64_t arena() const { return numArguments + 1 + numOutputs; }
  int64_t count() const { return numArguments + 2 + numOutputs; }

private:
  int64_t numArguments;
  int64_t numOutputs = 0;
};

/// The ops of the planned @train_step in the order the compiled step runs
/// them: op k is announced by dpcrt_trace_op(k) and is entry k of the
/// manifest's "schedule" (and of `dpc --emit=schedule`).
inline auto getScheduledOps(mlir::func::FuncOp trainStep) {
  return trainStep.getBody().front().without_terminator();
}

} // namespace dpc

#endif // DPC_COMPILER_TRAINSTEP_STEPLAYOUT_H
