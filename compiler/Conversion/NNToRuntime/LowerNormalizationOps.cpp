//===- LowerNormalizationOps.cpp - Normalization: nn ops as runtime calls -===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// batch_norm, group_norm and layer_norm with their backward ops. nn.batch_norm
// writes its new running statistics, and nn.increment its result, in place into
// their operands' storage (the results alias the operands, see
// getStorageOwner), which is checked here to be safe: nothing may read the
// operand afterwards.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

#include <array>

using namespace mlir;
using namespace dpc;

namespace {

/// A C double constant.
Value f64(RuntimeCallBuilder &rt, const APFloat &v) {
  OpBuilder &b = rt.builder();
  return b.create<LLVM::ConstantOp>(rt.getLoc(), b.getF64Type(),
                                    b.getF64FloatAttr(v.convertToDouble()));
}

/// `op` overwrites `operand`'s storage: no value in that storage from
/// before `op` (the operand, the argument it lives in, views of it) may be
/// read after `op`. Reads of `op`'s own results (the new values) are fine.
LogicalResult checkInPlace(Operation *op, Value operand, StringRef what) {
  Value owner = getStorageOwner(operand);
  SmallVector<Value> oldValues = {owner};
  for (Operation &before : *op->getBlock()) {
    if (&before == op)
      break;
    for (Value result : before.getResults())
      if (result != owner && getStorageOwner(result) == owner)
        oldValues.push_back(result);
  }
  for (Value old : oldValues)
    for (Operation *user : old.getUsers())
      if (user != op && !user->isBeforeInBlock(op))
        return op->emitError()
               << what
               << " is updated in place here but its old value is "
                  "read afterwards by '"
               << user->getName() << "'";
  return success();
}

} // namespace

void dpc::populateNormalizationLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<nn::BatchNormOp>(
      [](RuntimeCallBuilder &rt, nn::BatchNormOp o) -> LogicalResult {
        if (failed(checkInPlace(o, o.getRunningMean(), "the running mean")) ||
            failed(checkInPlace(o, o.getRunningVar(), "the running variance")))
          return failure();
        ArrayRef<int64_t> x = getShape(o.getInput());
        int64_t inner = 1;
        for (int64_t d : x.drop_front(2))
          inner *= d;
        Value runningMean = rt.ptr(o.getRunningMean());
        Value runningVar = rt.ptr(o.getRunningVar());
        rt.call("dpcrt_batch_norm_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getMean()),
                 rt.ptr(o.getInvstd()), runningMean, runningVar,
                 rt.ptr(o.getInput()), rt.ptr(o.getWeight()),
                 rt.ptr(o.getBias()), rt.i64(x[0]), rt.i64(x[1]), rt.i64(inner),
                 f64(rt, o.getMomentum()), f64(rt, o.getEps())});
        rt.setPtr(o.getNewRunningMean(), runningMean);
        rt.setPtr(o.getNewRunningVar(), runningVar);
        return success();
      });
  lowerings.add<nn::BatchNormGradOp>([](RuntimeCallBuilder &rt,
                                        nn::BatchNormGradOp o) {
    ArrayRef<int64_t> x = getShape(o.getInput());
    int64_t inner = 1;
    for (int64_t d : x.drop_front(2))
      inner *= d;
    rt.call("dpcrt_batch_norm_grad_f32",
            {rt.ptr(o.getGradInput()), rt.ptr(o.getGradWeight()),
             rt.ptr(o.getGradBias()), rt.ptr(o.getGrad()), rt.ptr(o.getInput()),
             rt.ptr(o.getWeight()), rt.ptr(o.getMean()), rt.ptr(o.getInvstd()),
             rt.i64(x[0]), rt.i64(x[1]), rt.i64(inner)});
    return success();
  });
  lowerings.add<nn::BatchNormInferenceOp>([](RuntimeCallBuilder &rt,
                                             nn::BatchNormInferenceOp o) {
    ArrayRef<int64_t> x = getShape(o.getInput());
    int64_t inner = 1;
    for (int64_t d : x.drop_front(2))
      inner *= d;
    rt.call("dpcrt_batch_norm_inference_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.ptr(o.getWeight()),
             rt.ptr(o.getBias()), rt.ptr(o.getRunningMean()),
             rt.ptr(o.getRunningVar()), rt.i64(x[0]), rt.i64(x[1]),
             rt.i64(inner), f64(rt, o.getEps())});
    return success();
  });
  lowerings.add<nn::BatchNormInferenceGradOp>(
      [](RuntimeCallBuilder &rt, nn::BatchNormInferenceGradOp o) {
        ArrayRef<int64_t> x = getShape(o.getInput());
        int64_t inner = 1;
        for (int64_t d : x.drop_front(2))
          inner *= d;
        rt.call("dpcrt_batch_norm_inference_grad_f32",
                {rt.ptr(o.getGradInput()), rt.ptr(o.getGradWeight()),
                 rt.ptr(o.getGradBias()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getInput()), rt.ptr(o.getWeight()),
                 rt.ptr(o.getRunningMean()), rt.ptr(o.getRunningVar()),
                 rt.i64(x[0]), rt.i64(x[1]), rt.i64(inner),
                 f64(rt, o.getEps())});
        return success();
      });
  lowerings.add<nn::IncrementOp>([](RuntimeCallBuilder &rt,
                                    nn::IncrementOp o) -> LogicalResult {
    if (failed(checkInPlace(o, o.getInput(), "the counter")))
      return failure();
    Value data = rt.ptr(o.getInput());
    rt.call("dpcrt_increment_i64", {data, rt.i64(getNumElements(o.getInput())),
                                    rt.i64(o.getAmount())});
    rt.setPtr(o.getResult(), data);
    return success();
  });
  // group_norm's input [N, C, *] as [N, C, inner].
  auto groupNormDims = [](Value input) {
    ArrayRef<int64_t> x = getShape(input);
    int64_t inner = 1;
    for (int64_t d : x.drop_front(2))
      inner *= d;
    return std::array<int64_t, 3>{x[0], x[1], inner};
  };
  lowerings.add<nn::GroupNormOp>([groupNormDims](RuntimeCallBuilder &rt,
                                                 nn::GroupNormOp o) {
    auto [n, c, inner] = groupNormDims(o.getInput());
    rt.call("dpcrt_group_norm_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.ptr(o.getWeight()),
             rt.ptr(o.getBias()), rt.i64(n), rt.i64(c), rt.i64(inner),
             rt.i64(o.getNumGroups()), rt.f32(o.getEps())});
    return success();
  });
  lowerings.add<nn::GroupNormGradOp>([groupNormDims](RuntimeCallBuilder &rt,
                                                     nn::GroupNormGradOp o) {
    auto [n, c, inner] = groupNormDims(o.getInput());
    rt.call("dpcrt_group_norm_grad_f32",
            {rt.ptr(o.getInputGrad()), rt.ptr(o.getWeightGrad()),
             rt.ptr(o.getBiasGrad()), rt.ptr(o.getGrad()), rt.ptr(o.getInput()),
             rt.ptr(o.getWeight()), rt.i64(n), rt.i64(c), rt.i64(inner),
             rt.i64(o.getNumGroups()), rt.f32(o.getEps())});
    return success();
  });
  lowerings.add<nn::LayerNormOp>([](RuntimeCallBuilder &rt, nn::LayerNormOp o) {
    int64_t cols = getNumElements(o.getWeight());
    int64_t rows = cols ? getNumElements(o.getInput()) / cols : 0;
    rt.call("dpcrt_layer_norm_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.ptr(o.getWeight()),
             rt.ptr(o.getBias()), rt.i64(rows), rt.i64(cols),
             rt.f32(o.getEps())});
    return success();
  });
  lowerings.add<nn::LayerNormGradOp>(
      [](RuntimeCallBuilder &rt, nn::LayerNormGradOp o) {
        int64_t cols = getNumElements(o.getWeight());
        int64_t rows = cols ? getNumElements(o.getInput()) / cols : 0;
        rt.call("dpcrt_layer_norm_grad_f32",
                {rt.ptr(o.getInputGrad()), rt.ptr(o.getWeightGrad()),
                 rt.ptr(o.getBiasGrad()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getInput()), rt.ptr(o.getWeight()), rt.i64(rows),
                 rt.i64(cols), rt.f32(o.getEps())});
        return success();
      });
}
