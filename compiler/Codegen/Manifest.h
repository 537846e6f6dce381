//===- Manifest.h - The manifest embedded in model.so -----------*- C++ -*-===//
//
// The manifest tells the runtime everything it must allocate and check for
// a compiled training step: inputs, label, parameters, buffers, optimizer
// state, buckets, arena size and the slot of each. Its schema is documented
// in docs/ARCHITECTURE.md; the runtime parses it in
// runtime/lib/io/manifest.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_CODEGEN_MANIFEST_H
#define DPC_COMPILER_CODEGEN_MANIFEST_H

#include "compiler/TrainStep/TensorSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

namespace dpc {

/// What the user asked for, recorded in the manifest.
struct TrainingConfig {
  std::string mode = "ddp";
  int64_t worldSize = 1;
  /// --mode dp: the devices the batch is scattered over, and the replicas
  /// it gives (torch.chunk's chunks; fewer when the batch is small).
  int64_t devices = 1, replicas = 1;
  std::string loss = "cross_entropy";
  std::string optimizer = "sgd"; // sgd, adam or adamw
  double lr = 0.01, momentum = 0.0, dampening = 0.0, weightDecay = 0.0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8; // adam, adamw
  /// Micro-batches per step (--accumulate): inputs and labels hold this
  /// many local batches back to back.
  int64_t accumulate = 1;
  /// --weights external: the module embeds no initial values; the runtime
  /// takes them from a file.
  bool externalWeights = false;
};

/// The initial values of all parameters and buffers, packed with 64-byte
/// alignment, and each tensor's offset in the pack.
struct PackedWeights {
  std::string bytes;
  llvm::StringMap<int64_t> offsets;
};
PackedWeights packWeights(const std::vector<ModelTensor> &tensors);

/// Builds the manifest JSON of the planned (not yet lowered) @train_step,
/// with the slots dpc-lower-to-llvm lays out (StepSlots).
mlir::FailureOr<std::string> buildManifest(mlir::func::FuncOp trainStep,
                                           const TrainingConfig &config,
                                           const PackedWeights &weights);

} // namespace dpc

#endif // DPC_COMPILER_CODEGEN_MANIFEST_H
