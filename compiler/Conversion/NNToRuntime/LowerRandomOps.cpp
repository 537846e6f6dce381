//===- LowerRandomOps.cpp - the Random family as runtime calls ------------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// nn.dropout, forward and backward alike: dpcrt_dropout_f32 with the op's
// coordinates; nn.bernoulli: dpcrt_bernoulli_f32 likewise. The replica of a
// --mode dp stage is its dp.replica.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/DP/IR/DPDialect.h"
#include "dialects/NN/IR/NNOps.h"

using namespace mlir;
using namespace dpc;

void dpc::populateRandomLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<nn::DropoutOp>([](RuntimeCallBuilder &rt, nn::DropoutOp o) {
    int64_t replica = dp::getReplica(o).value_or(0);
    rt.call("dpcrt_dropout_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
             rt.i64(getNumElements(o.getInput())), rt.f64(o.getP()),
             rt.i32(static_cast<int32_t>(o.getSite())),
             rt.i32(static_cast<int32_t>(o.getMicroBatch())),
             rt.i32(static_cast<int32_t>(replica))});
    return success();
  });
  lowerings.add<nn::BernoulliOp>([](RuntimeCallBuilder &rt, nn::BernoulliOp o) {
    int64_t replica = dp::getReplica(o).value_or(0);
    rt.call("dpcrt_bernoulli_f32",
            {rt.ptr(o.getResult()), rt.i64(getNumElements(o.getResult())),
             rt.f64(o.getP()), rt.i32(static_cast<int32_t>(o.getSite())),
             rt.i32(static_cast<int32_t>(o.getMicroBatch())),
             rt.i32(static_cast<int32_t>(replica))});
    return success();
  });
}
