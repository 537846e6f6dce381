//===- LowerOptimizerOps.cpp - the Optimizer family as runtime calls ------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// sgd_update and adam_update, in place in the parameter and its state.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

namespace {

/// A C double constant.
Value f64(RuntimeCallBuilder &rt, const APFloat &v) {
  OpBuilder &b = rt.builder();
  return b.create<LLVM::ConstantOp>(rt.getLoc(), b.getF64Type(),
                                    b.getF64FloatAttr(v.convertToDouble()));
}

} // namespace

void dpc::populateOptimizerLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<nn::SGDUpdateOp>([](RuntimeCallBuilder &rt, nn::SGDUpdateOp o) {
    Value param = rt.ptr(o.getParam());
    Value buffer =
        o.getMomentumBuffer() ? rt.ptr(o.getMomentumBuffer()) : rt.nullPtr();
    rt.call("dpcrt_sgd_update_f32",
            {param, buffer, rt.ptr(o.getGrad()),
             rt.i64(getNumElements(o.getParam())), rt.f32(o.getLr()),
             rt.f32(o.getMomentum()), rt.f32(o.getDampening()),
             rt.f32(o.getWeightDecay()), rt.i32(o.getNesterov())});
    rt.setPtr(o.getNewParam(), param);
    if (o.getNewMomentumBuffer())
      rt.setPtr(o.getNewMomentumBuffer(), buffer);
    return success();
  });
  lowerings.add<nn::AdamUpdateOp>([](RuntimeCallBuilder &rt,
                                     nn::AdamUpdateOp o) {
    Value param = rt.ptr(o.getParam()), expAvg = rt.ptr(o.getExpAvg()),
          expAvgSq = rt.ptr(o.getExpAvgSq());
    rt.call("dpcrt_adam_update_f32",
            {param, expAvg, expAvgSq, rt.ptr(o.getGrad()),
             rt.i64(getNumElements(o.getParam())), f64(rt, o.getLr()),
             f64(rt, o.getBeta1()), f64(rt, o.getBeta2()), f64(rt, o.getEps()),
             f64(rt, o.getWeightDecay()), rt.i32(o.getDecoupledWeightDecay())});
    rt.setPtr(o.getNewParam(), param);
    rt.setPtr(o.getNewExpAvg(), expAvg);
    rt.setPtr(o.getNewExpAvgSq(), expAvgSq);
    return success();
  });
}
