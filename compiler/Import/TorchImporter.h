//===- TorchImporter.h - TorchScript to the nn dialect ----------*- C++ -*-===//
//
// The boundary between LibTorch and MLIR. LibTorch headers need C++
// exceptions, which Debian's LLVM builds turn off, so this interface speaks
// MLIR and the standard library only; TorchImporter.cpp is the one place
// that includes torch headers.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_IMPORT_TORCHIMPORTER_H
#define DPC_COMPILER_IMPORT_TORCHIMPORTER_H

#include "compiler/TrainStep/TensorSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dpc {

/// How to read the model's forward beyond its tensors.
struct ImportOptions {
  /// Which element of a forward that returns a tuple, a NamedTuple or a
  /// dict of tensors is the output the loss reads (`dpc --loss-output`): an
  /// index ("1"), a NamedTuple field or a dict key ("logits"). Empty: the
  /// first element. The other elements are not trained on (their ops are
  /// dead code), though what they update in place (BatchNorm's running
  /// statistics of an auxiliary head) is updated as in PyTorch.
  std::string lossOutput;
  /// `dpc --precision bf16|fp16`: every aten op as torch.autocast(
  /// device_type="cpu", dtype=torch.bfloat16 / torch.float16) runs it
  /// (compiler/Import/Autocast.cpp).
  enum class Autocast { None, BFloat16, Float16 };
  Autocast autocast = Autocast::None;
};

struct ImportedModel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<ModelTensor> tensors;
};

/// Imports the `forward` method of the TorchScript module at `path`, each
/// module in the mode it was saved in (`training`), as `func.func
/// @forward(inputs..., parameters..., buffers...) -> (output, updated
/// buffers...)` in the nn dialect, with one argument per parameter and buffer
/// (in state_dict order, named by `dpc.name`) and the model's source locations.
/// Buffers the forward updates in place (BatchNorm's running statistics) are
/// functionalized: their final values are returned after the output, in
/// argument order, with `dpc.kind = "buffer"` and `dpc.name`. The output is
/// the forward's tensor, or the element `options.lossOutput` selects of the
/// tuple or dict it returns. Trailing forward arguments with a default
/// (`mask: Optional[Tensor] = None`) take it when no --input is given for
/// them. On failure emits one diagnostic (at the model's source line where
/// there is one) and returns failure.
mlir::FailureOr<ImportedModel>
importTorchScript(mlir::MLIRContext &context, const std::string &path,
                  const std::vector<TensorSpec> &inputs,
                  const ImportOptions &options = {});

/// Imports the forward again as model.eval() runs it (every module's
/// `training` false: BatchNorm on its running statistics, dropout off) with
/// `inputs` (the whole batch in --mode dp), and adds it to `module` as
/// `@eval_forward`, from which dpc-build-train-step builds the evaluation
/// step. Its parameters and buffers are those of `@forward`, by name. On
/// failure emits the import's diagnostics and returns failure.
mlir::LogicalResult importEvalForward(mlir::MLIRContext &context,
                                      const std::string &path,
                                      const std::vector<TensorSpec> &inputs,
                                      mlir::ModuleOp module,
                                      const ImportOptions &options = {});

/// --mode dp: the sizes of torch.chunk's chunks that the batch (dimension 0
/// of every input) is scattered in over `devices` devices, one replica
/// each. An error, one line naming the --input, when the inputs cannot be
/// scattered so.
llvm::Expected<llvm::SmallVector<int64_t>>
getDataParallelChunks(const std::vector<TensorSpec> &inputs, int64_t devices);

/// --mode dp: imports the forward of one replica per distinct chunk size
/// (shapes are static): `@forward` with `chunks.front()` rows per input and,
/// when the last chunk is smaller, `@forward_last` with `chunks.back()`, in
/// one module, the module the pipeline's dpc-dp-replicate expects.
mlir::FailureOr<ImportedModel>
importTorchScriptChunks(mlir::MLIRContext &context, const std::string &path,
                        const std::vector<TensorSpec> &inputs,
                        llvm::ArrayRef<int64_t> chunks,
                        const ImportOptions &options = {});

} // namespace dpc

#endif // DPC_COMPILER_IMPORT_TORCHIMPORTER_H
