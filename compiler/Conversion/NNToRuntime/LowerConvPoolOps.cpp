//===- LowerConvPoolOps.cpp - the ConvPool family as runtime calls --------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// Each op becomes one dpcrt_* call (runtime/include/dpc/abi.h); window
// geometry travels as a constant int64 array indexed by the ABI's
// dpcrt_conv2d_dim / dpcrt_pool2d_dim.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

namespace {

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

} // namespace

void dpc::populateConvPoolLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<nn::Conv2dOp>([](RuntimeCallBuilder &rt, nn::Conv2dOp o) {
    Value dims = conv2dDims(rt, o, getShape(o.getInput()),
                            getShape(o.getWeight()), getShape(o.getResult()));
    rt.call(isBFloat16(o.getInput()) ? "dpcrt_conv2d_bf16" : "dpcrt_conv2d_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.ptr(o.getWeight()),
             o.getBias() ? rt.ptr(o.getBias()) : rt.nullPtr(), dims});
    return success();
  });
  lowerings.add<nn::Conv2dInputGradOp>(
      [](RuntimeCallBuilder &rt, nn::Conv2dInputGradOp o) {
        Value dims = conv2dDims(rt, o, getShape(o.getResult()),
                                getShape(o.getWeight()), getShape(o.getGrad()));
        rt.call(isBFloat16(o.getGrad()) ? "dpcrt_conv2d_input_grad_bf16"
                                        : "dpcrt_conv2d_input_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getWeight()), dims});
        return success();
      });
  lowerings.add<nn::Conv2dWeightGradOp>(
      [](RuntimeCallBuilder &rt, nn::Conv2dWeightGradOp o) {
        Value dims = conv2dDims(rt, o, getShape(o.getInput()),
                                getShape(o.getResult()), getShape(o.getGrad()));
        rt.call(isBFloat16(o.getGrad()) ? "dpcrt_conv2d_weight_grad_bf16"
                                        : "dpcrt_conv2d_weight_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getInput()), dims});
        return success();
      });
  lowerings.add<nn::MaxPool2dOp>([](RuntimeCallBuilder &rt, nn::MaxPool2dOp o) {
    Value dims = pool2dDims(rt, getShape(o.getInput()), getShape(o.getResult()),
                            o.getKernelSize(), o.getStride(), o.getPadding(),
                            o.getDilation());
    rt.call("dpcrt_max_pool2d_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), dims});
    return success();
  });
  lowerings.add<nn::MaxPool2dGradOp>(
      [](RuntimeCallBuilder &rt, nn::MaxPool2dGradOp o) {
        Value dims = pool2dDims(rt, getShape(o.getInput()),
                                getShape(o.getGrad()), o.getKernelSize(),
                                o.getStride(), o.getPadding(), o.getDilation());
        rt.call("dpcrt_max_pool2d_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getInput()), dims});
        return success();
      });
  lowerings.add<nn::AvgPool2dOp>([](RuntimeCallBuilder &rt, nn::AvgPool2dOp o) {
    Value dims =
        pool2dDims(rt, getShape(o.getInput()), getShape(o.getResult()),
                   o.getKernelSize(), o.getStride(), o.getPadding(), {});
    rt.call("dpcrt_avg_pool2d_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), dims,
             rt.i32(o.getCountIncludePad()),
             rt.i64(o.getDivisorOverride().value_or(0))});
    return success();
  });
  lowerings.add<nn::AvgPool2dGradOp>(
      [](RuntimeCallBuilder &rt, nn::AvgPool2dGradOp o) {
        Value dims =
            pool2dDims(rt, getShape(o.getResult()), getShape(o.getGrad()),
                       o.getKernelSize(), o.getStride(), o.getPadding(), {});
        rt.call("dpcrt_avg_pool2d_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()), dims,
                 rt.i32(o.getCountIncludePad()),
                 rt.i64(o.getDivisorOverride().value_or(0))});
        return success();
      });
  lowerings.add<nn::AdaptiveAvgPool2dOp, nn::AdaptiveAvgPool2dGradOp>(
      [](RuntimeCallBuilder &rt, auto o) {
        bool forward = isa<nn::AdaptiveAvgPool2dOp>(o);
        Value in = o->getOperand(0), out = o->getResult(0);
        ArrayRef<int64_t> x = getShape(forward ? in : out);
        ArrayRef<int64_t> y = getShape(forward ? out : in);
        rt.call(forward ? "dpcrt_adaptive_avg_pool2d_f32"
                        : "dpcrt_adaptive_avg_pool2d_grad_f32",
                {rt.ptr(out), rt.ptr(in), rt.i64(x[0] * x[1]), rt.i64(x[2]),
                 rt.i64(x[3]), rt.i64(y[2]), rt.i64(y[3])});
        return success();
      });
}
