//===- DPDialect.h - The dp dialect -----------------------------*- C++ -*-===//

#ifndef DPC_DIALECTS_DP_IR_DPDIALECT_H
#define DPC_DIALECTS_DP_IR_DPDIALECT_H

#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/DP/IR/DPDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/DP/IR/DPTypes.h.inc"

#define GET_OP_CLASSES
#include "dialects/DP/IR/DPOps.h.inc"

namespace dpc::dp {

/// Discardable attributes of single-process data parallelism (--mode dp):
/// `dp.replica = r` on an op that runs on replica r (ops without it run on
/// device 0), `dp.stage = k` on every op once dpc-dp-phases has grouped the
/// step into stages (odd k: the replicas run concurrently; even k: device 0).
inline constexpr llvm::StringLiteral kReplicaAttrName = "dp.replica";
inline constexpr llvm::StringLiteral kStageAttrName = "dp.stage";

/// The replica `op` runs on, or std::nullopt for device 0.
std::optional<int64_t> getReplica(mlir::Operation *op);
/// Tags `op` to run on replica `replica`.
void setReplica(mlir::Operation *op, int64_t replica);

/// The sizes of the chunks nn.DataParallel scatters a batch of `batch`
/// samples into over `devices` devices: torch.chunk's, `ceil(batch /
/// devices)` each and a smaller last one, so there may be fewer chunks than
/// devices (batch 10 on 3 devices: 4, 4, 2; batch 5 on 4 devices: 2, 2, 1;
/// batch 2 on 3 devices: 1, 1). Both arguments must be positive.
llvm::SmallVector<int64_t> getChunkSizes(int64_t batch, int64_t devices);

} // namespace dpc::dp

#endif // DPC_DIALECTS_DP_IR_DPDIALECT_H
