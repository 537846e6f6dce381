//===- LowerElementwiseOps.cpp - Elementwise: nn ops as runtime calls -----===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
// The binary family (dpcrt_binary_f32) and the unary family (dpcrt_unary_f32)
// from their records, the activations' backward ops, gelu, the
// comparisons and masked_fill.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace dpc;

namespace {

int32_t geluKind(StringRef approximate) {
  return approximate == "tanh" ? DPCRT_GELU_TANH : DPCRT_GELU_ERF;
}

int32_t compareKind(StringRef predicate) {
  return llvm::StringSwitch<int32_t>(predicate)
      .Case("eq", DPCRT_COMPARE_EQ)
      .Case("ne", DPCRT_COMPARE_NE)
      .Case("lt", DPCRT_COMPARE_LT)
      .Case("le", DPCRT_COMPARE_LE)
      .Case("gt", DPCRT_COMPARE_GT)
      .Default(DPCRT_COMPARE_GE);
}

/// Calls the unary kernel `name` (dpcrt_unary or dpcrt_unary_grad, _f32 or
/// _f64 for tensor `like`) with `args`, or its `_params` form with the
/// parameters p0, p1, p2 (0 for the ones the kind does not have) when the op
/// has parameters.
void callUnary(RuntimeCallBuilder &rt, StringRef name, Value like,
               SmallVector<Value> args, ArrayRef<double> parameters) {
  if (parameters.empty()) {
    rt.call(floatKernel(("dpcrt_" + name).str(), like), args);
    return;
  }
  for (size_t i = 0; i < 3; ++i)
    args.push_back(rt.f64(i < parameters.size() ? parameters[i] : 0.0));
  std::string paramsName =
      name == "unary" ? "dpcrt_unary_params" : "dpcrt_unary_params_grad";
  rt.call(floatKernel(paramsName, like), args);
}

} // namespace

void dpc::populateElementwiseLowerings(RuntimeLowerings &lowerings) {
  lowerings.addForInterface<nn::ElementwiseBinaryOpInterface>(
      [](RuntimeCallBuilder &rt, nn::ElementwiseBinaryOpInterface o) {
        // The whole family: the op's record names the runtime's kind, and
        // whether its rhs has a factor (alpha).
        Value lhs = o->getOperand(0), rhs = o->getOperand(1),
              result = o->getResult(0);
        ArrayRef<int64_t> out = getShape(result);
        SmallVector<int64_t> dims(out);
        llvm::append_range(dims, getBroadcastStrides(getShape(lhs), out));
        llvm::append_range(dims, getBroadcastStrides(getShape(rhs), out));
        rt.call(floatKernel("dpcrt_binary", result),
                {rt.i32(o.getBinaryKind()), rt.ptr(result), rt.ptr(lhs),
                 rt.ptr(rhs), rt.i32(out.size()), rt.constantArray(dims),
                 rt.floatArg(result, o.getRhsFactor())});
        return success();
      });
  lowerings.addForInterface<nn::ElementwiseUnaryOpInterface>(
      [](RuntimeCallBuilder &rt, nn::ElementwiseUnaryOpInterface o) {
        // The whole family: the op's record names the runtime's kind.
        Value input = o->getOperand(0);
        callUnary(rt, "unary", input,
                  {rt.i32(o.getUnaryKind()), rt.ptr(o->getResult(0)),
                   rt.ptr(input), rt.i64(getNumElements(input))},
                  o.getParameters());
        return success();
      });
  lowerings.add<nn::UnaryGradOp>([](RuntimeCallBuilder &rt, nn::UnaryGradOp o) {
    // The forward op's record names the kind (checked by the op's type
    // inference).
    auto name = RegisteredOperationName::lookup(("nn." + o.getForward()).str(),
                                                o->getContext());
    int32_t kind =
        name->getInterface<nn::ElementwiseUnaryOpInterface>()->getUnaryKind();
    callUnary(rt, "unary_grad", o.getGrad(),
              {rt.i32(kind), rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
               rt.ptr(o.getSaved()), rt.i64(getNumElements(o.getGrad()))},
              o.getParameters());
    return success();
  });
  lowerings.add<nn::ReluGradOp>([](RuntimeCallBuilder &rt, nn::ReluGradOp o) {
    rt.call(floatKernel("dpcrt_unary_grad", o.getGrad()),
            {rt.i32(DPCRT_UNARY_RELU), rt.ptr(o.getResult()),
             rt.ptr(o.getGrad()), rt.ptr(o.getInput()),
             rt.i64(getNumElements(o.getGrad()))});
    return success();
  });
  lowerings.add<nn::TanhGradOp, nn::SigmoidGradOp>(
      [](RuntimeCallBuilder &rt, auto o) {
        int32_t kind =
            isa<nn::TanhGradOp>(o) ? DPCRT_UNARY_TANH : DPCRT_UNARY_SIGMOID;
        rt.call(floatKernel("dpcrt_unary_grad", o.getGrad()),
                {rt.i32(kind), rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getOutput()), rt.i64(getNumElements(o.getGrad()))});
        return success();
      });
  lowerings.add<nn::ScaleOp>([](RuntimeCallBuilder &rt, nn::ScaleOp o) {
    rt.call(floatKernel("dpcrt_scale", o.getInput()),
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
             rt.i64(getNumElements(o.getInput())),
             rt.floatArg(o.getInput(), o.getFactor())});
    return success();
  });
  lowerings.add<nn::FillOp>([](RuntimeCallBuilder &rt, nn::FillOp o) {
    rt.call(floatKernel("dpcrt_fill", o.getResult()),
            {rt.ptr(o.getResult()), rt.i64(getNumElements(o.getResult())),
             rt.floatArg(o.getResult(), o.getValue())});
    return success();
  });
  lowerings.add<nn::GeluOp>([](RuntimeCallBuilder &rt, nn::GeluOp o) {
    rt.call("dpcrt_gelu_f32",
            {rt.i32(geluKind(o.getApproximate())), rt.ptr(o.getResult()),
             rt.ptr(o.getInput()), rt.i64(getNumElements(o.getInput()))});
    return success();
  });
  lowerings.add<nn::GeluGradOp>([](RuntimeCallBuilder &rt, nn::GeluGradOp o) {
    rt.call("dpcrt_gelu_grad_f32",
            {rt.i32(geluKind(o.getApproximate())), rt.ptr(o.getResult()),
             rt.ptr(o.getGrad()), rt.ptr(o.getInput()),
             rt.i64(getNumElements(o.getInput()))});
    return success();
  });
  lowerings.add<nn::CompareOp>([](RuntimeCallBuilder &rt, nn::CompareOp o) {
    ArrayRef<int64_t> out = getShape(o.getResult());
    SmallVector<int64_t> dims(out);
    llvm::append_range(dims, getBroadcastStrides(getShape(o.getLhs()), out));
    llvm::append_range(dims, getBroadcastStrides(getShape(o.getRhs()), out));
    rt.call(floatKernel("dpcrt_compare", o.getLhs()),
            {rt.i32(compareKind(o.getPredicate())), rt.ptr(o.getResult()),
             rt.ptr(o.getLhs()), rt.ptr(o.getRhs()), rt.i32(out.size()),
             rt.constantArray(dims)});
    return success();
  });
  lowerings.add<nn::WhereOp>([](RuntimeCallBuilder &rt, nn::WhereOp o) {
    rt.call(floatKernel("dpcrt_where", o.getLhs()),
            {rt.ptr(o.getResult()), rt.ptr(o.getCondition()),
             rt.ptr(o.getLhs()), rt.ptr(o.getRhs()),
             rt.i64(getNumElements(o.getResult()))});
    return success();
  });
  lowerings.add<nn::ConvertOp>([](RuntimeCallBuilder &rt, nn::ConvertOp o) {
    rt.call("dpcrt_convert_i64_f32",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
             rt.i64(getNumElements(o.getResult()))});
    return success();
  });
  lowerings.add<nn::PackSavedOp>([](RuntimeCallBuilder &rt, nn::PackSavedOp o) {
    rt.call(isBFloat16(o.getResult()) ? "dpcrt_pack_bf16" : "dpcrt_pack_f16",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
             rt.i64(getNumElements(o.getResult()))});
    return success();
  });
  lowerings.add<nn::UnpackSavedOp>([](RuntimeCallBuilder &rt,
                                      nn::UnpackSavedOp o) {
    rt.call(isBFloat16(o.getInput()) ? "dpcrt_unpack_bf16" : "dpcrt_unpack_f16",
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
             rt.i64(getNumElements(o.getResult()))});
    return success();
  });
  lowerings.add<nn::MaskedFillOp>([](RuntimeCallBuilder &rt,
                                     nn::MaskedFillOp o) {
    ArrayRef<int64_t> out = getShape(o.getResult());
    SmallVector<int64_t> dims(out);
    llvm::append_range(dims, getBroadcastStrides(getShape(o.getMask()), out));
    rt.call(floatKernel("dpcrt_masked_fill", o.getInput()),
            {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.ptr(o.getMask()),
             rt.i32(out.size()), rt.constantArray(dims),
             rt.floatArg(o.getInput(), o.getValue())});
    return success();
  });
}
