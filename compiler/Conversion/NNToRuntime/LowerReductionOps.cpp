//===- LowerReductionOps.cpp - the Reduction family as runtime calls ------===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// sum, mean, sum_to (the adjoint of broadcasting), amax, amin, max_dim,
// norm2, logsumexp, cumsum, softmax and log_softmax
// with their backward ops.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

using namespace mlir;
using namespace dpc;

namespace {

int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

/// [outer, size, inner] around dimension `dim`.
std::array<int64_t, 3> aroundDim(ArrayRef<int64_t> shape, int64_t dim) {
  return {product(shape.take_front(dim)), shape[dim],
          product(shape.drop_front(dim + 1))};
}

/// dpcrt_reduce_sum_f32 (_f64) of `input` over `dims` into `out`.
void reduceSum(RuntimeCallBuilder &rt, Value out, Value input,
               ArrayRef<int64_t> reduced, int64_t outElements) {
  ArrayRef<int64_t> in = getShape(input);
  SmallVector<int64_t> kept(in);
  for (int64_t d : reduced)
    kept[d] = 1;
  SmallVector<int64_t> dims(in);
  llvm::append_range(dims, getBroadcastStrides(kept, in));
  rt.call(floatKernel("dpcrt_reduce_sum", input),
          {out, rt.ptr(input), rt.i32(in.size()), rt.constantArray(dims),
           rt.i64(outElements)});
}

/// The `dims` operand of the dpcrt_reduce_* kernels for `input` reduced
/// over `reduced`: the input shape, then the output's strides in input
/// coordinates (0 along each reduced dimension).
Value reductionDims(RuntimeCallBuilder &rt, ArrayRef<int64_t> in,
                    ArrayRef<int64_t> reduced) {
  SmallVector<int64_t> kept(in);
  for (int64_t d : reduced)
    kept[d] = 1;
  SmallVector<int64_t> dims(in);
  llvm::append_range(dims, getBroadcastStrides(kept, in));
  return rt.constantArray(dims);
}

} // namespace

void dpc::populateReductionLowerings(RuntimeLowerings &lowerings) {
  lowerings.add<nn::SumToOp>([](RuntimeCallBuilder &rt, nn::SumToOp o) {
    ArrayRef<int64_t> in = getShape(o.getInput());
    SmallVector<int64_t> dims(in);
    llvm::append_range(dims, getBroadcastStrides(getShape(o.getResult()), in));
    rt.call(floatKernel("dpcrt_reduce_sum", o.getInput()),
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.i32(in.size()),
             rt.constantArray(dims), rt.i64(getNumElements(o.getResult()))});
    return success();
  });
  lowerings.add<nn::SoftmaxOp, nn::LogSoftmaxOp>([](RuntimeCallBuilder &rt,
                                                    auto o) {
    auto [outer, size, inner] = aroundDim(getShape(o.getInput()), o.getDim());
    rt.call(floatKernel("dpcrt_softmax", o.getInput()),
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.i64(outer),
             rt.i64(size), rt.i64(inner), rt.i32(isa<nn::LogSoftmaxOp>(o))});
    return success();
  });
  lowerings.add<nn::SoftmaxGradOp, nn::LogSoftmaxGradOp>(
      [](RuntimeCallBuilder &rt, auto o) {
        auto [outer, size, inner] =
            aroundDim(getShape(o.getGrad()), o.getDim());
        rt.call(floatKernel("dpcrt_softmax_grad", o.getGrad()),
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getOutput()), rt.i64(outer), rt.i64(size),
                 rt.i64(inner), rt.i32(isa<nn::LogSoftmaxGradOp>(o))});
        return success();
      });
  lowerings.add<nn::SumOp>([](RuntimeCallBuilder &rt, nn::SumOp o) {
    reduceSum(rt, rt.ptr(o.getResult()), o.getInput(), o.getDims(),
              getNumElements(o.getResult()));
    return success();
  });
  lowerings.add<nn::AMaxOp, nn::AMinOp>([](RuntimeCallBuilder &rt, auto o) {
    ArrayRef<int64_t> in = getShape(o.getInput());
    rt.call("dpcrt_reduce_max_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.i32(in.size()),
             reductionDims(rt, in, o.getDims()),
             rt.i64(getNumElements(o.getResult())),
             rt.i32(isa<nn::AMinOp>(o))});
    return success();
  });
  lowerings.add<nn::Norm2Op>([](RuntimeCallBuilder &rt, nn::Norm2Op o) {
    ArrayRef<int64_t> in = getShape(o.getInput());
    rt.call("dpcrt_reduce_norm2_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.i32(in.size()),
             reductionDims(rt, in, o.getDims()),
             rt.i64(getNumElements(o.getResult()))});
    return success();
  });
  lowerings.add<nn::LogSumExpOp>([](RuntimeCallBuilder &rt, nn::LogSumExpOp o) {
    ArrayRef<int64_t> in = getShape(o.getInput());
    rt.call("dpcrt_reduce_logsumexp_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.i32(in.size()),
             reductionDims(rt, in, o.getDims()),
             rt.i64(getNumElements(o.getResult()))});
    return success();
  });
  lowerings.add<nn::MaxDimOp>([](RuntimeCallBuilder &rt, nn::MaxDimOp o) {
    auto [outer, size, inner] = aroundDim(getShape(o.getInput()), o.getDim());
    rt.call("dpcrt_max_dim_f32",
            {rt.ptr(o.getValues()), rt.ptr(o.getIndices()),
             rt.ptr(o.getInput()), rt.i64(outer), rt.i64(size), rt.i64(inner),
             rt.i32(o.getMin())});
    return success();
  });
  lowerings.add<nn::MaxDimGradOp>([](RuntimeCallBuilder &rt,
                                     nn::MaxDimGradOp o) {
    auto [outer, size, inner] = aroundDim(getShape(o.getResult()), o.getDim());
    rt.call("dpcrt_max_dim_grad_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getGrad()), rt.ptr(o.getIndices()),
             rt.i64(outer), rt.i64(size), rt.i64(inner)});
    return success();
  });
  lowerings.add<nn::CumSumOp>([](RuntimeCallBuilder &rt, nn::CumSumOp o) {
    auto [outer, size, inner] = aroundDim(getShape(o.getInput()), o.getDim());
    rt.call("dpcrt_cumsum_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.i64(outer),
             rt.i64(size), rt.i64(inner), rt.i32(o.getReverse())});
    return success();
  });
  lowerings.add<nn::MeanOp>([](RuntimeCallBuilder &rt, nn::MeanOp o) {
    Value out = rt.ptr(o.getResult());
    int64_t n = getNumElements(o.getResult());
    reduceSum(rt, out, o.getInput(), o.getDims(), n);
    int64_t count = 1;
    for (int64_t d : o.getDims())
      count *= getShape(o.getInput())[d];
    rt.call(floatKernel("dpcrt_div_scalar", o.getResult()),
            {out, out, rt.i64(n),
             rt.floatArg(o.getResult(), static_cast<double>(count))});
    return success();
  });
}
