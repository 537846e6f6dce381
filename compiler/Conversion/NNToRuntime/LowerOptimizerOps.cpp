//===- LowerOptimizerOps.cpp - optimizer updates beyond SGD ---===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h):
// nn.adam_update becomes one dpcrt_adam_update_f32 call that updates the
// parameter and its moments in place, with its group's learning rate read
// from the runtime (dpcrt_learning_rate) when @train_step has parameter
// groups; nn.micro_batch is a view into its
// operand.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dpc;

namespace {

/// A C double constant (the Adam kernel takes its hyper-parameters as
/// doubles, like the Python floats torch computes with).
Value f64(RuntimeCallBuilder &rt, const APFloat &v) {
  OpBuilder &b = rt.builder();
  return b.create<LLVM::ConstantOp>(rt.getLoc(), b.getF64Type(),
                                    b.getF64FloatAttr(v.convertToDouble()));
}

} // namespace

bool dpc::readsRuntimeLearningRate(Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  return func && func->hasAttr(kParamGroupsAttr);
}

Value dpc::runtimeLearningRate(RuntimeCallBuilder &rt, int32_t group) {
  return rt.call("dpcrt_learning_rate", {rt.i32(group)},
                 rt.builder().getF64Type());
}

std::optional<LogicalResult> dpc::lowerOptimizerOp(RuntimeCallBuilder &rt,
                                                   Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<LogicalResult>>(op)
      .Case([&](nn::AdamUpdateOp o) {
        Value param = rt.ptr(o.getParam()), expAvg = rt.ptr(o.getExpAvg()),
              expAvgSq = rt.ptr(o.getExpAvgSq());
        rt.call(
            "dpcrt_adam_update_f32",
            {param, expAvg, expAvgSq, rt.ptr(o.getGrad()),
             rt.i64(getNumElements(o.getParam())),
             readsRuntimeLearningRate(o) ? runtimeLearningRate(rt, o.getGroup())
                                         : f64(rt, o.getLr()),
             f64(rt, o.getBeta1()), f64(rt, o.getBeta2()), f64(rt, o.getEps()),
             f64(rt, o.getWeightDecay()), rt.i32(o.getDecoupledWeightDecay())});
        rt.setPtr(o.getNewParam(), param);
        rt.setPtr(o.getNewExpAvg(), expAvg);
        rt.setPtr(o.getNewExpAvgSq(), expAvgSq);
        return success();
      })
      .Case([&](nn::MicroBatchOp o) {
        int64_t offset = o.getIndex() * getTensorBytes(o.getType());
        rt.setPtr(o.getResult(), rt.offsetPtr(rt.ptr(o.getInput()), offset));
        return success();
      })
      .Default([](Operation *) { return std::nullopt; });
}
