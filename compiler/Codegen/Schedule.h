//===- Schedule.h - The compiled order of compute and communication -*- C++
//-*-===//
//
// The planned @train_step is a straight-line schedule for two streams: the
// compute stream runs the ops in order; each dp.all_reduce_start hands a
// bucket to the communication stream, which reduces buckets in the order
// they start; each dp.wait makes the compute stream wait for its bucket.
// `dpc --emit=schedule` prints it, the manifest carries it (for the runtime's
// Chrome trace, which names each compute event by its op).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_CODEGEN_SCHEDULE_H
#define DPC_COMPILER_CODEGEN_SCHEDULE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace dpc {

/// The bytes a bucket all-reduces: the sum of its gradients' sizes, halved
/// when it is compressed to 16 bits (dpc --grad-comm).
int64_t getBucketBytes(mlir::Operation *allReduceStart);

/// The type a bucket travels in: "f32", "f16" or "bf16".
llvm::StringRef getBucketCommDType(mlir::Operation *allReduceStart);

/// One entry per op of the step, in order: {"op", "loc", and for
/// collectives "bucket" and "bytes"}.
llvm::json::Array buildScheduleJson(mlir::func::FuncOp trainStep);

/// Prints the schedule as two stream columns with bucket sizes.
void printSchedule(mlir::func::FuncOp trainStep, llvm::raw_ostream &os);

} // namespace dpc

#endif // DPC_COMPILER_CODEGEN_SCHEDULE_H
