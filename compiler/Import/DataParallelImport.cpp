//===- DataParallelImport.cpp - The imported module of --mode dp ----------===//
//
// Shapes are static, so nn.DataParallel's replicas are imported once per
// distinct chunk size: torch.chunk gives every replica ceil(B / N) rows but
// the last, which may be smaller. The module holds @forward for the first
// chunk and @forward_last for a smaller last one; dpc-dp-replicate, the
// pipeline's first pass in --mode dp, builds the whole-batch forward from
// them.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/TorchImporter.h"

#include "compiler/TrainStep/TrainStep.h"
#include "dialects/DP/IR/DPDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Error.h"

using namespace mlir;
using namespace dpc;

llvm::Expected<llvm::SmallVector<int64_t>>
dpc::getDataParallelChunks(const std::vector<TensorSpec> &inputs,
                           int64_t devices) {
  auto error = [](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  for (const TensorSpec &input : inputs) {
    if (input.shape.empty())
      return error("--mode dp scatters inputs along dimension 0, but --input " +
                   input.name + " is a scalar");
    if (input.shape[0] != inputs.front().shape[0])
      return error("--mode dp scatters every input along dimension 0, but "
                   "--input " +
                   input.name + " has " + llvm::Twine(input.shape[0]) +
                   " samples and --input " + inputs.front().name + " has " +
                   llvm::Twine(inputs.front().shape[0]));
  }
  int64_t batch = inputs.front().shape[0];
  if (devices > batch)
    return error("--devices " + llvm::Twine(devices) +
                 " is larger than the batch of " + llvm::Twine(batch) +
                 " samples (--input " + inputs.front().name +
                 "): every device needs at least one sample");
  return dp::getChunkSizes(batch, devices);
}

FailureOr<ImportedModel>
dpc::importTorchScriptChunks(MLIRContext &context, const std::string &path,
                             const std::vector<TensorSpec> &inputs,
                             llvm::ArrayRef<int64_t> chunks) {
  auto withRows = [&](int64_t rows) {
    std::vector<TensorSpec> specs = inputs;
    for (TensorSpec &spec : specs)
      spec.shape[0] = rows;
    return specs;
  };
  FailureOr<ImportedModel> model =
      importTorchScript(context, path, withRows(chunks.front()));
  if (failed(model) || chunks.back() == chunks.front())
    return model;
  FailureOr<ImportedModel> last = [&] {
    // The first import has given the model's warnings already.
    ScopedDiagnosticHandler quiet(&context, [](Diagnostic &diag) {
      return success(diag.getSeverity() == DiagnosticSeverity::Warning);
    });
    return importTorchScript(context, path, withRows(chunks.back()));
  }();
  if (failed(last))
    return failure();
  auto forward = last->module->lookupSymbol<func::FuncOp>(kForwardFuncName);
  forward->remove();
  forward.setSymName(kLastForwardFuncName);
  model->module->push_back(forward);
  return model;
}
