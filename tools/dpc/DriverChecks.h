//===- DriverChecks.h - What dpc refuses that dpc-run would -----*- C++ -*-===//
//
// Checks of dpc's flags and model that need more than one flag or the
// imported model. Each returns an error whose message is the one line dpc
// prints, so that a module dpc writes is one dpc-run can run: dpc-run
// refuses a label named like an input, sizes beyond what it can address,
// and the compiler's passes would otherwise report these in their own terms.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_TOOLS_DPC_DRIVERCHECKS_H
#define DPC_TOOLS_DPC_DRIVERCHECKS_H

#include "compiler/TrainStep/TensorSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>

namespace dpc {

/// The largest --world-size dpc accepts: beyond the largest machines that
/// run data-parallel jobs (about 10^5 GPUs), so a larger value is a typo;
/// and a global batch of world size x local batch samples stays far from
/// int64 overflow.
inline constexpr int64_t kMaxWorldSize = int64_t(1) << 20;

/// The --input and --label specs together: distinct names (dpc-run's --data
/// names them), and byte sizes the runtime can address (it bounds element
/// counts at 2^56, as the manifest reader does). `worldSize` and
/// `microBatches` multiply what one step reads.
llvm::Error checkTensorSpecs(llvm::ArrayRef<TensorSpec> inputs,
                             const std::optional<TensorSpec> &label,
                             int64_t worldSize, int64_t microBatches);

/// After autodiff: the step must update something. A model without
/// trainable parameters, or whose parameters do not affect the loss, has
/// nothing to train (the pipeline would fail later saying "@train_step
/// returns no gradients", in its own terms).
llvm::Error checkSomethingToTrain(mlir::func::FuncOp trainStep);

/// checkSomethingToTrain on the module's @train_step as a pass, which dpc
/// runs right after the pipeline's autodiff stage; its error is the one
/// line dpc prints.
std::unique_ptr<mlir::Pass> createCheckSomethingToTrainPass();

} // namespace dpc

#endif // DPC_TOOLS_DPC_DRIVERCHECKS_H
