//===- LowerLossOps.cpp - the Loss family as runtime calls ----------------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// cross_entropy, mse_loss and nll_loss with their backward ops.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

void dpc::populateLossLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<nn::CrossEntropyOp>(
      [](RuntimeCallBuilder &rt, nn::CrossEntropyOp o) {
        ArrayRef<int64_t> x = getShape(o.getLogits());
        rt.call(floatKernel("dpcrt_cross_entropy", o.getLogits()),
                {rt.ptr(o.getResult()), rt.ptr(o.getLogits()),
                 rt.ptr(o.getLabels()), rt.i64(x[0]), rt.i64(x[1])});
        return success();
      });
  lowerings.add<nn::CrossEntropyGradOp>([](RuntimeCallBuilder &rt,
                                           nn::CrossEntropyGradOp o) {
    ArrayRef<int64_t> x = getShape(o.getLogits());
    rt.call(floatKernel("dpcrt_cross_entropy_grad", o.getLogits()),
            {rt.ptr(o.getResult()), rt.ptr(o.getGrad()), rt.ptr(o.getLogits()),
             rt.ptr(o.getLabels()), rt.i64(x[0]), rt.i64(x[1])});
    return success();
  });
  lowerings.add<nn::MSELossOp>([](RuntimeCallBuilder &rt, nn::MSELossOp o) {
    rt.call(floatKernel("dpcrt_mse_loss", o.getInput()),
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.ptr(o.getTarget()),
             rt.i64(getNumElements(o.getInput()))});
    return success();
  });
  lowerings.add<nn::MSELossGradOp>([](RuntimeCallBuilder &rt,
                                      nn::MSELossGradOp o) {
    rt.call(floatKernel("dpcrt_mse_loss_grad", o.getInput()),
            {rt.ptr(o.getResult()), rt.ptr(o.getGrad()), rt.ptr(o.getInput()),
             rt.ptr(o.getTarget()), rt.i64(getNumElements(o.getInput()))});
    return success();
  });
  lowerings.add<nn::NLLLossOp>([](RuntimeCallBuilder &rt, nn::NLLLossOp o) {
    ArrayRef<int64_t> x = getShape(o.getInput());
    rt.call(floatKernel("dpcrt_nll_loss", o.getInput()),
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.ptr(o.getLabels()),
             rt.i64(x[0]), rt.i64(x[1])});
    return success();
  });
  lowerings.add<nn::NLLLossGradOp>(
      [](RuntimeCallBuilder &rt, nn::NLLLossGradOp o) {
        ArrayRef<int64_t> x = getShape(o.getResult());
        rt.call(floatKernel("dpcrt_nll_loss_grad", o.getResult()),
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getLabels()), rt.i64(x[0]), rt.i64(x[1])});
        return success();
      });
}
