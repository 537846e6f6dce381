//===- LowerCollectiveOps.cpp - the Collective family as runtime calls ----===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// The dp dialect: all-reduce (blocking, or started and waited for) across
// processes, and the ops of single-process data parallelism (--mode dp):
// dp.scatter and dp.replicate (views on the CPU backend), dp.gather (copies
// into the gathered tensor) and dp.reduce_add (sums in replica order).
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/DP/IR/DPDialect.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

namespace {

/// `base + bytes`, or `base` itself for offset 0
/// (RuntimeCallBuilder::offsetPtr: i64 offsets, a GEPArg constant is int32).
Value offsetPtrOrBase(RuntimeCallBuilder &rt, Value base, int64_t bytes) {
  return bytes == 0 ? base : rt.offsetPtr(base, bytes);
}

/// The all-reduce that starts averaging gradients like `grad`: float64
/// buckets have their own (a bucket holds one element type, checked by
/// dp.all_reduce_start).
StringRef allReduceStartKernel(Value grad) {
  return isFloat64(grad) ? "dpcrt_allreduce_start_f64"
                         : "dpcrt_allreduce_start";
}

} // namespace

void dpc::populateCollectiveLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<dp::AllReduceOp>([](RuntimeCallBuilder &rt, dp::AllReduceOp o) {
    // Synchronous form (no bucketing): average a copy in place.
    Value out = rt.ptr(o.getResult());
    rt.call("dpcrt_copy",
            {out, rt.ptr(o.getInput()), rt.i64(getTensorBytes(o.getType()))});
    Value handle =
        rt.call(allReduceStartKernel(o.getInput()),
                {rt.i32(-1), out, rt.i64(getNumElements(o.getInput()))},
                rt.builder().getI64Type());
    rt.call("dpcrt_allreduce_wait", {handle});
    return success();
  });
  lowerings.add<dp::AllReduceStartOp>(
      [](RuntimeCallBuilder &rt, dp::AllReduceStartOp o) -> LogicalResult {
        // The plan placed the operands back to back; check it.
        int64_t expected = getPlannedOffset(o.getInputs().front()),
                elements = 0;
        for (Value input : o.getInputs()) {
          if (getPlannedOffset(input) != expected)
            return o.emitError(
                "bucket operands are not contiguous in the arena");
          expected += getTensorBytes(input.getType());
          elements += getNumElements(input);
        }
        SmallVector<Value, 4> args = {rt.i32(o.getBucket()),
                                      rt.ptr(o.getInputs().front()),
                                      rt.i64(elements)};
        StringRef kernel = allReduceStartKernel(o.getInputs().front());
        if (std::optional<Type> compress = o.getCompress()) {
          // DDP's fp16/bf16_compress_hook.
          kernel = "dpcrt_allreduce_start_compressed";
          args.push_back(rt.i32(compress->isBF16() ? DPCRT_GRAD_COMM_BF16
                                                   : DPCRT_GRAD_COMM_F16));
        }
        rt.setHandle(o.getToken(),
                     rt.call(kernel, args, rt.builder().getI64Type()));
        return success();
      });
  lowerings.add<dp::WaitOp>([](RuntimeCallBuilder &rt, dp::WaitOp o) {
    rt.call("dpcrt_allreduce_wait", {rt.lookupHandle(o.getToken())});
    for (auto [result, input] :
         llvm::zip(o.getResults(), o.getStartOp().getInputs()))
      rt.setPtr(result, rt.ptr(input));
    return success();
  });
  lowerings.add<dp::ScatterOp>([](RuntimeCallBuilder &rt, dp::ScatterOp o) {
    // Rows of a row-major tensor are contiguous: the chunk is a view.
    int64_t rowBytes =
        getTensorBytes(o.getInput().getType()) / getShape(o.getInput())[0];
    int64_t offset = o.getOffset();
    rt.setPtr(o.getResult(),
              offsetPtrOrBase(rt, rt.ptr(o.getInput()), offset * rowBytes));
    return success();
  });
  lowerings.add<dp::ReplicateOp>([](RuntimeCallBuilder &rt, dp::ReplicateOp o) {
    // All replicas share the host's memory: a copy is the input itself,
    // unless the replicas update their copies (`copies`), where replica
    // 0 keeps the input and the others get storage of their own.
    for (auto [replica, copy] : llvm::enumerate(o.getResults())) {
      if (replica == 0 || !o.getCopies()) {
        rt.setPtr(copy, rt.ptr(o.getInput()));
        continue;
      }
      rt.call("dpcrt_copy", {rt.ptr(copy), rt.ptr(o.getInput()),
                             rt.i64(getTensorBytes(copy.getType()))});
    }
    return success();
  });
  lowerings.add<dp::GatherOp>([](RuntimeCallBuilder &rt, dp::GatherOp o) {
    Value out = rt.ptr(o.getResult());
    int64_t offset = 0;
    for (Value input : o.getInputs()) {
      int64_t bytes = getTensorBytes(input.getType());
      rt.call("dpcrt_copy",
              {offsetPtrOrBase(rt, out, offset), rt.ptr(input), rt.i64(bytes)});
      offset += bytes;
    }
    return success();
  });
  lowerings.add<dp::ReduceAddOp>([](RuntimeCallBuilder &rt, dp::ReduceAddOp o) {
    Value out = rt.ptr(o.getResult());
    OperandRange inputs = o.getInputs();
    int64_t n = getNumElements(o.getResult());
    if (inputs.size() == 1) {
      rt.call("dpcrt_copy",
              {out, rt.ptr(inputs[0]), rt.i64(getTensorBytes(o.getType()))});
      return success();
    }
    // ((g0 + g1) + g2) + ..., as torch.cuda.comm.reduce_add.
    Value dims = rt.constantArray({n, 1, 1});
    Value acc = rt.ptr(inputs[0]);
    for (Value input : inputs.drop_front()) {
      rt.call(floatKernel("dpcrt_binary", o.getResult()),
              {rt.i32(DPCRT_BINARY_ADD), out, acc, rt.ptr(input), rt.i32(1),
               dims, rt.floatArg(o.getResult(), 1.0)});
      acc = out;
    }
    return success();
  });
}
