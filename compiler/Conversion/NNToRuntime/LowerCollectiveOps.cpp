//===- LowerCollectiveOps.cpp - dp collectives as runtime calls ---===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/DP/IR/DPDialect.h"
#include "runtime/include/dpc/abi.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dpc;

std::optional<LogicalResult> dpc::lowerCollectiveOp(RuntimeCallBuilder &rt,
                                                    Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<LogicalResult>>(op)
      .Case([&](dp::AllReduceOp o) {
        // Synchronous form (no bucketing): average a copy in place.
        Value out = rt.ptr(o.getResult());
        rt.call("dpcrt_copy", {out, rt.ptr(o.getInput()),
                               rt.i64(getTensorBytes(o.getType()))});
        Value handle =
            rt.call("dpcrt_allreduce_start",
                    {rt.i32(-1), out, rt.i64(getNumElements(o.getInput()))},
                    rt.builder().getI64Type());
        rt.call("dpcrt_allreduce_wait", {handle});
        return success();
      })
      .Case([&](dp::AllReduceStartOp o) -> LogicalResult {
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
        rt.setHandle(o.getToken(),
                     rt.call("dpcrt_allreduce_start",
                             {rt.i32(o.getBucket()),
                              rt.ptr(o.getInputs().front()), rt.i64(elements)},
                             rt.builder().getI64Type()));
        return success();
      })
      .Case([&](dp::WaitOp o) {
        rt.call("dpcrt_allreduce_wait", {rt.lookupHandle(o.getToken())});
        for (auto [result, input] :
             llvm::zip(o.getResults(), o.getStartOp().getInputs()))
          rt.setPtr(result, rt.ptr(input));
        return success();
      })
      .Default([](Operation *) { return std::nullopt; });
}
