//===- LowerOptimizerOps.cpp - the Optimizer family as runtime calls ------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h):
// nn.sgd_update and nn.adam_update update the parameter and its state in
// place, with their group's learning rate and momentum (SGD's momentum when
// compiled non-zero, Adam's beta1) read from the runtime
// (dpcrt_learning_rate, dpcrt_momentum) when @train_step has parameter
// groups;
// nn.clip_grad_norm / nn.clip_grad_value scale or clamp the gradients in
// place; nn.unscale_grads unscales them (GradScaler) and nn.loss_scale
// fills the backward's seed with the runtime's loss scale.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

bool dpc::readsRuntimeLearningRate(Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  return func && func->hasAttr(kParamGroupsAttr);
}

Value dpc::runtimeLearningRate(RuntimeCallBuilder &rt, int32_t group) {
  return rt.call("dpcrt_learning_rate", {rt.i32(group)},
                 rt.builder().getF64Type());
}

Value dpc::runtimeMomentum(RuntimeCallBuilder &rt, int32_t group) {
  return rt.call("dpcrt_momentum", {rt.i32(group)}, rt.builder().getF64Type());
}

namespace {

/// The pointers of `grads` in an array on the stack of the step, for the
/// kernels over every gradient; `results` (computed in place) get the same
/// pointers.
Value gradientPointers(RuntimeCallBuilder &rt, ValueRange grads,
                       ValueRange results) {
  OpBuilder &b = rt.builder();
  Type ptrType = rt.ptrType();
  Value array = b.create<LLVM::AllocaOp>(rt.getLoc(), ptrType, ptrType,
                                         rt.i64(grads.size()), 8);
  for (auto [i, grad] : llvm::enumerate(grads)) {
    Value slot =
        b.create<LLVM::GEPOp>(rt.getLoc(), ptrType, ptrType, array,
                              ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
    b.create<LLVM::StoreOp>(rt.getLoc(), rt.ptr(grad), slot);
    rt.setPtr(results[i], rt.ptr(grad));
  }
  return array;
}

/// The element counts of `grads` (a constant array beside the pointers).
SmallVector<int64_t> gradientSizes(ValueRange grads) {
  SmallVector<int64_t> sizes;
  for (Value grad : grads)
    sizes.push_back(getNumElements(grad));
  return sizes;
}

} // namespace

void dpc::populateOptimizerLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<nn::SGDUpdateOp>([](RuntimeCallBuilder &rt, nn::SGDUpdateOp o) {
    Value param = rt.ptr(o.getParam());
    Value buffer =
        o.getMomentumBuffer() ? rt.ptr(o.getMomentumBuffer()) : rt.nullPtr();
    // torch rounds the Python float lr and momentum to float32 (alpha=-lr,
    // buf.mul_(momentum)) for float32 parameters, and keeps them for float64
    // ones. Without a momentum buffer the momentum stays 0.
    Value like = o.getParam();
    auto runtimeArg = [&](Value f64) -> Value {
      if (isFloat64(like))
        return f64;
      return rt.builder().create<LLVM::FPTruncOp>(
          rt.getLoc(), rt.builder().getF32Type(), f64);
    };
    bool runtime = readsRuntimeLearningRate(o);
    rt.call(floatKernel("dpcrt_sgd_update", like),
            {param, buffer, rt.ptr(o.getGrad()),
             rt.i64(getNumElements(o.getParam())),
             runtime ? runtimeArg(runtimeLearningRate(rt, o.getGroup()))
                     : rt.floatArg(like, o.getLr()),
             runtime && o.getMomentumBuffer()
                 ? runtimeArg(runtimeMomentum(rt, o.getGroup()))
                 : rt.floatArg(like, o.getMomentum()),
             rt.floatArg(like, o.getDampening()),
             rt.floatArg(like, o.getWeightDecay()), rt.i32(o.getNesterov())});
    rt.setPtr(o.getNewParam(), param);
    if (o.getNewMomentumBuffer())
      rt.setPtr(o.getNewMomentumBuffer(), buffer);
    return success();
  });
  lowerings.add<nn::AdamUpdateOp>([](RuntimeCallBuilder &rt,
                                     nn::AdamUpdateOp o) {
    Value param = rt.ptr(o.getParam()), expAvg = rt.ptr(o.getExpAvg()),
          expAvgSq = rt.ptr(o.getExpAvgSq());
    bool runtime = readsRuntimeLearningRate(o);
    rt.call(
        floatKernel("dpcrt_adam_update", o.getParam()),
        {param, expAvg, expAvgSq, rt.ptr(o.getGrad()),
         rt.i64(getNumElements(o.getParam())),
         runtime ? runtimeLearningRate(rt, o.getGroup()) : rt.f64(o.getLr()),
         runtime ? runtimeMomentum(rt, o.getGroup()) : rt.f64(o.getBeta1()),
         rt.f64(o.getBeta2()), rt.f64(o.getEps()), rt.f64(o.getWeightDecay()),
         rt.i32(o.getDecoupledWeightDecay())});
    rt.setPtr(o.getNewParam(), param);
    rt.setPtr(o.getNewExpAvg(), expAvg);
    rt.setPtr(o.getNewExpAvgSq(), expAvgSq);
    return success();
  });
  lowerings.add<nn::ClipGradNormOp>(
      [](RuntimeCallBuilder &rt, nn::ClipGradNormOp o) {
        Value grads = gradientPointers(rt, o.getGrads(), o.getClipped());
        rt.call(floatKernel("dpcrt_clip_grad_norm", o.getGrads().front()),
                {grads, rt.constantArray(gradientSizes(o.getGrads())),
                 rt.i32(static_cast<int32_t>(o.getGrads().size())),
                 rt.f64(o.getMaxNorm()), rt.f64(o.getNormType())});
        return success();
      });
  lowerings.add<nn::UnscaleGradsOp>(
      [](RuntimeCallBuilder &rt, nn::UnscaleGradsOp o) {
        // The scale and the GradScaler's constants are the runtime's
        // (dpcrt_context::gradScaler, from the manifest's "grad_scaler").
        Value grads = gradientPointers(rt, o.getGrads(), o.getUnscaled());
        rt.call("dpcrt_unscale_grads_f32",
                {grads, rt.constantArray(gradientSizes(o.getGrads())),
                 rt.i32(static_cast<int32_t>(o.getGrads().size()))});
        return success();
      });
  lowerings.add<nn::LossScaleOp>([](RuntimeCallBuilder &rt, nn::LossScaleOp o) {
    rt.call("dpcrt_loss_scale_f32",
            {rt.ptr(o.getResult()), rt.i64(getNumElements(o.getResult()))});
    return success();
  });
  lowerings.add<nn::ClipGradValueOp>(
      [](RuntimeCallBuilder &rt, nn::ClipGradValueOp o) {
        Value grad = rt.ptr(o.getGrad());
        rt.call("dpcrt_clip_grad_value_f32",
                {grad, rt.i64(getNumElements(o.getGrad())),
                 rt.f64(o.getClipValue())});
        rt.setPtr(o.getClipped(), grad);
        return success();
      });
}
