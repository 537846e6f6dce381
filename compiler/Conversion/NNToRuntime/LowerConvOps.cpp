//===- LowerConvOps.cpp - convolution, normalization and pooling ops ---===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// Each op becomes one dpcrt_* call (runtime/include/dpc/abi.h); window
// geometry travels as a constant int64 array indexed by the ABI's
// dpcrt_conv2d_dim / dpcrt_pool2d_dim. nn.batch_norm writes its new running
// statistics, and nn.increment its result, in place into their operands'
// storage (the results alias the operands, see getStorageOwner), which is
// checked here to be safe: nothing may read the operand afterwards.
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

/// A C double constant.
Value f64(RuntimeCallBuilder &rt, const APFloat &v) {
  OpBuilder &b = rt.builder();
  return b.create<LLVM::ConstantOp>(rt.getLoc(), b.getF64Type(),
                                    b.getF64FloatAttr(v.convertToDouble()));
}

/// The conv2d geometry array of an op with stride/padding/dilation/groups,
/// for input [N, C, H, W], weight [O, C/g, KH, KW], output [N, O, OH, OW].
template <typename OpTy>
Value conv2dDims(RuntimeCallBuilder &rt, OpTy op, ArrayRef<int64_t> x,
                 ArrayRef<int64_t> w, ArrayRef<int64_t> y) {
  SmallVector<int64_t> dims(DPCRT_CONV2D_NUM_DIMS);
  dims[DPCRT_CONV2D_N] = x[0];
  dims[DPCRT_CONV2D_C] = x[1];
  dims[DPCRT_CONV2D_H] = x[2];
  dims[DPCRT_CONV2D_W] = x[3];
  dims[DPCRT_CONV2D_O] = w[0];
  dims[DPCRT_CONV2D_KH] = w[2];
  dims[DPCRT_CONV2D_KW] = w[3];
  dims[DPCRT_CONV2D_OH] = y[2];
  dims[DPCRT_CONV2D_OW] = y[3];
  dims[DPCRT_CONV2D_STRIDE_H] = op.getStride()[0];
  dims[DPCRT_CONV2D_STRIDE_W] = op.getStride()[1];
  dims[DPCRT_CONV2D_PAD_H] = op.getPadding()[0];
  dims[DPCRT_CONV2D_PAD_W] = op.getPadding()[1];
  dims[DPCRT_CONV2D_DILATION_H] = op.getDilation()[0];
  dims[DPCRT_CONV2D_DILATION_W] = op.getDilation()[1];
  dims[DPCRT_CONV2D_GROUPS] = op.getGroups();
  return rt.constantArray(dims);
}

/// The pool2d geometry array for input x [N, C, H, W] and output y.
Value pool2dDims(RuntimeCallBuilder &rt, ArrayRef<int64_t> x,
                 ArrayRef<int64_t> y, ArrayRef<int64_t> kernel,
                 ArrayRef<int64_t> stride, ArrayRef<int64_t> padding,
                 ArrayRef<int64_t> dilation) {
  SmallVector<int64_t> dims(DPCRT_POOL2D_NUM_DIMS);
  dims[DPCRT_POOL2D_PLANES] = x[0] * x[1];
  dims[DPCRT_POOL2D_H] = x[2];
  dims[DPCRT_POOL2D_W] = x[3];
  dims[DPCRT_POOL2D_OH] = y[2];
  dims[DPCRT_POOL2D_OW] = y[3];
  dims[DPCRT_POOL2D_KH] = kernel[0];
  dims[DPCRT_POOL2D_KW] = kernel[1];
  dims[DPCRT_POOL2D_STRIDE_H] = stride[0];
  dims[DPCRT_POOL2D_STRIDE_W] = stride[1];
  dims[DPCRT_POOL2D_PAD_H] = padding[0];
  dims[DPCRT_POOL2D_PAD_W] = padding[1];
  dims[DPCRT_POOL2D_DILATION_H] = dilation.empty() ? 1 : dilation[0];
  dims[DPCRT_POOL2D_DILATION_W] = dilation.empty() ? 1 : dilation[1];
  return rt.constantArray(dims);
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

std::optional<LogicalResult> dpc::lowerConvOp(RuntimeCallBuilder &rt,
                                              Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<LogicalResult>>(op)
      .Case([&](nn::Conv2dOp o) {
        Value dims =
            conv2dDims(rt, o, getShape(o.getInput()), getShape(o.getWeight()),
                       getShape(o.getResult()));
        rt.call("dpcrt_conv2d_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                 rt.ptr(o.getWeight()),
                 o.getBias() ? rt.ptr(o.getBias()) : rt.nullPtr(), dims});
        return success();
      })
      .Case([&](nn::Conv2dInputGradOp o) {
        Value dims = conv2dDims(rt, o, getShape(o.getResult()),
                                getShape(o.getWeight()), getShape(o.getGrad()));
        rt.call("dpcrt_conv2d_input_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getWeight()), dims});
        return success();
      })
      .Case([&](nn::Conv2dWeightGradOp o) {
        Value dims = conv2dDims(rt, o, getShape(o.getInput()),
                                getShape(o.getResult()), getShape(o.getGrad()));
        rt.call("dpcrt_conv2d_weight_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getInput()), dims});
        return success();
      })
      .Case([&](nn::BatchNormOp o) -> LogicalResult {
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
      })
      .Case([&](nn::BatchNormGradOp o) {
        ArrayRef<int64_t> x = getShape(o.getInput());
        int64_t inner = 1;
        for (int64_t d : x.drop_front(2))
          inner *= d;
        rt.call("dpcrt_batch_norm_grad_f32",
                {rt.ptr(o.getGradInput()), rt.ptr(o.getGradWeight()),
                 rt.ptr(o.getGradBias()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getInput()), rt.ptr(o.getWeight()),
                 rt.ptr(o.getMean()), rt.ptr(o.getInvstd()), rt.i64(x[0]),
                 rt.i64(x[1]), rt.i64(inner)});
        return success();
      })
      .Case([&](nn::IncrementOp o) -> LogicalResult {
        if (failed(checkInPlace(o, o.getInput(), "the counter")))
          return failure();
        Value data = rt.ptr(o.getInput());
        rt.call("dpcrt_increment_i64",
                {data, rt.i64(getNumElements(o.getInput())),
                 rt.i64(o.getAmount())});
        rt.setPtr(o.getResult(), data);
        return success();
      })
      .Case([&](nn::MaxPool2dOp o) {
        Value dims = pool2dDims(rt, getShape(o.getInput()),
                                getShape(o.getResult()), o.getKernelSize(),
                                o.getStride(), o.getPadding(), o.getDilation());
        rt.call("dpcrt_max_pool2d_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()), dims});
        return success();
      })
      .Case([&](nn::MaxPool2dGradOp o) {
        Value dims = pool2dDims(rt, getShape(o.getInput()),
                                getShape(o.getGrad()), o.getKernelSize(),
                                o.getStride(), o.getPadding(), o.getDilation());
        rt.call("dpcrt_max_pool2d_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getInput()), dims});
        return success();
      })
      .Case([&](nn::AvgPool2dOp o) {
        Value dims =
            pool2dDims(rt, getShape(o.getInput()), getShape(o.getResult()),
                       o.getKernelSize(), o.getStride(), o.getPadding(), {});
        rt.call("dpcrt_avg_pool2d_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()), dims,
                 rt.i32(o.getCountIncludePad()),
                 rt.i64(o.getDivisorOverride().value_or(0))});
        return success();
      })
      .Case([&](nn::AvgPool2dGradOp o) {
        Value dims =
            pool2dDims(rt, getShape(o.getResult()), getShape(o.getGrad()),
                       o.getKernelSize(), o.getStride(), o.getPadding(), {});
        rt.call("dpcrt_avg_pool2d_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()), dims,
                 rt.i32(o.getCountIncludePad()),
                 rt.i64(o.getDivisorOverride().value_or(0))});
        return success();
      })
      .Case<nn::AdaptiveAvgPool2dOp, nn::AdaptiveAvgPool2dGradOp>([&](auto o) {
        bool forward = isa<nn::AdaptiveAvgPool2dOp>(o);
        Value in = o->getOperand(0), out = o->getResult(0);
        ArrayRef<int64_t> x = getShape(forward ? in : out);
        ArrayRef<int64_t> y = getShape(forward ? out : in);
        rt.call(forward ? "dpcrt_adaptive_avg_pool2d_f32"
                        : "dpcrt_adaptive_avg_pool2d_grad_f32",
                {rt.ptr(out), rt.ptr(in), rt.i64(x[0] * x[1]), rt.i64(x[2]),
                 rt.i64(x[3]), rt.i64(y[2]), rt.i64(y[3])});
        return success();
      })
      .Default([](Operation *) { return std::nullopt; });
}
