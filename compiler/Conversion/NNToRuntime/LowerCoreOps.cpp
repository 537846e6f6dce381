//===- LowerCoreOps.cpp - nn core ops and SGD as kernel calls ---===//
//
// Part of dpc-lower-to-llvm (see LowerToLLVM.cpp and RuntimeCallBuilder.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/NN/IR/NNOps.h"
#include "runtime/include/dpc/abi.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dpc;

std::optional<LogicalResult> dpc::lowerCoreOp(RuntimeCallBuilder &rt,
                                              Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<LogicalResult>>(op)
      .Case([&](nn::LinearOp o) {
        // Leading dimensions of the input are the GEMM's rows.
        ArrayRef<int64_t> w = getShape(o.getWeight());
        int64_t rows = getNumElements(o.getInput()) / w[1];
        Value out = rt.ptr(o.getResult());
        if (o.getBias())
          rt.call("dpcrt_broadcast_rows_f32",
                  {out, rt.ptr(o.getBias()), rt.i64(rows), rt.i64(w[0])});
        rt.call("dpcrt_gemm_f32",
                {out, rt.ptr(o.getInput()), rt.ptr(o.getWeight()), rt.i64(rows),
                 rt.i64(w[0]), rt.i64(w[1]), rt.i32(0), rt.i32(1),
                 rt.f32(o.getBias() ? 1.0f : 0.0f)});
        return success();
      })
      .Case([&](nn::MatmulOp o) {
        ArrayRef<int64_t> a = getShape(o.getLhs()), b = getShape(o.getRhs()),
                          c = getShape(o.getResult());
        bool ta = o.getTransposeLhs();
        size_t rank = c.size();
        int64_t m = c[rank - 2], n = c[rank - 1];
        int64_t k = ta ? a[a.size() - 2] : a[a.size() - 1];
        int64_t batch =
            getNumElements(o.getResult()) / std::max<int64_t>(m * n, 1);
        // No batch dimensions, or [..., M, K] @ [K, N]: the rows of all
        // batch elements are one matrix, a single GEMM.
        if (rank == 2 || (b.size() == 2 && !ta)) {
          rt.call("dpcrt_gemm_f32",
                  {rt.ptr(o.getResult()), rt.ptr(o.getLhs()),
                   rt.ptr(o.getRhs()), rt.i64(batch * m), rt.i64(n), rt.i64(k),
                   rt.i32(ta), rt.i32(o.getTransposeRhs()), rt.f32(0.0f)});
          return success();
        }
        // One GEMM per batch element; strides in matrices, 0 along
        // broadcast batch dimensions.
        ArrayRef<int64_t> batchShape = c.drop_back(2);
        SmallVector<int64_t> dims(batchShape);
        llvm::append_range(dims,
                           getBroadcastStrides(a.drop_back(2), batchShape));
        llvm::append_range(dims,
                           getBroadcastStrides(b.drop_back(2), batchShape));
        rt.call("dpcrt_batched_gemm_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getLhs()), rt.ptr(o.getRhs()),
                 rt.i32(batchShape.size()), rt.constantArray(dims), rt.i64(m),
                 rt.i64(n), rt.i64(k), rt.i32(ta),
                 rt.i32(o.getTransposeRhs())});
        return success();
      })
      .Case([&](nn::TransposeOp o) {
        ArrayRef<int64_t> x = getShape(o.getInput());
        rt.call("dpcrt_transpose2d_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.i64(x[0]),
                 rt.i64(x[1])});
        return success();
      })
      .Case<nn::AddOp, nn::SubOp, nn::MulOp>([&](auto o) {
        int32_t kind = DPCRT_BINARY_MUL;
        float alpha = 1.0f;
        if constexpr (std::is_same_v<decltype(o), nn::AddOp>) {
          kind = DPCRT_BINARY_ADD;
          alpha = o.getAlpha().convertToFloat();
        } else if constexpr (std::is_same_v<decltype(o), nn::SubOp>) {
          kind = DPCRT_BINARY_SUB;
          alpha = o.getAlpha().convertToFloat();
        }
        ArrayRef<int64_t> out = getShape(o.getResult());
        SmallVector<int64_t> dims(out);
        llvm::append_range(dims,
                           getBroadcastStrides(getShape(o.getLhs()), out));
        llvm::append_range(dims,
                           getBroadcastStrides(getShape(o.getRhs()), out));
        rt.call("dpcrt_binary_f32",
                {rt.i32(kind), rt.ptr(o.getResult()), rt.ptr(o.getLhs()),
                 rt.ptr(o.getRhs()), rt.i32(out.size()), rt.constantArray(dims),
                 rt.f32(alpha)});
        return success();
      })
      .Case([&](nn::ElementwiseUnaryOpInterface o) {
        // The whole family: the op's record names the runtime's kind.
        Value input = op->getOperand(0);
        rt.call("dpcrt_unary_f32",
                {rt.i32(o.getUnaryKind()), rt.ptr(op->getResult(0)),
                 rt.ptr(input), rt.i64(getNumElements(input))});
        return success();
      })
      .Case([&](nn::ReluGradOp o) {
        rt.call("dpcrt_unary_grad_f32",
                {rt.i32(DPCRT_UNARY_RELU), rt.ptr(o.getResult()),
                 rt.ptr(o.getGrad()), rt.ptr(o.getInput()),
                 rt.i64(getNumElements(o.getGrad()))});
        return success();
      })
      .Case<nn::TanhGradOp, nn::SigmoidGradOp>([&](auto o) {
        int32_t kind =
            isa<nn::TanhGradOp>(o) ? DPCRT_UNARY_TANH : DPCRT_UNARY_SIGMOID;
        rt.call("dpcrt_unary_grad_f32",
                {rt.i32(kind), rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getOutput()), rt.i64(getNumElements(o.getGrad()))});
        return success();
      })
      .Case([&](nn::ScaleOp o) {
        rt.call("dpcrt_scale_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                 rt.i64(getNumElements(o.getInput())), rt.f32(o.getFactor())});
        return success();
      })
      .Case([&](nn::SumToOp o) {
        ArrayRef<int64_t> in = getShape(o.getInput());
        SmallVector<int64_t> dims(in);
        llvm::append_range(dims,
                           getBroadcastStrides(getShape(o.getResult()), in));
        rt.call("dpcrt_reduce_sum_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()), rt.i32(in.size()),
                 rt.constantArray(dims),
                 rt.i64(getNumElements(o.getResult()))});
        return success();
      })
      .Case([&](nn::ReshapeOp o) {
        rt.setPtr(o.getResult(), rt.ptr(o.getInput()));
        return success();
      })
      .Case([&](nn::FillOp o) {
        rt.call("dpcrt_fill_f32",
                {rt.ptr(o.getResult()), rt.i64(getNumElements(o.getResult())),
                 rt.f32(o.getValue())});
        return success();
      })
      .Case([&](nn::CopyOp o) {
        rt.call("dpcrt_copy", {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                               rt.i64(getTensorBytes(o.getType()))});
        return success();
      })
      .Case([&](nn::CrossEntropyOp o) {
        ArrayRef<int64_t> x = getShape(o.getLogits());
        rt.call("dpcrt_cross_entropy_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getLogits()),
                 rt.ptr(o.getLabels()), rt.i64(x[0]), rt.i64(x[1])});
        return success();
      })
      .Case([&](nn::CrossEntropyGradOp o) {
        ArrayRef<int64_t> x = getShape(o.getLogits());
        rt.call("dpcrt_cross_entropy_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getLogits()), rt.ptr(o.getLabels()), rt.i64(x[0]),
                 rt.i64(x[1])});
        return success();
      })
      .Case([&](nn::MSELossOp o) {
        rt.call("dpcrt_mse_loss_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getInput()),
                 rt.ptr(o.getTarget()), rt.i64(getNumElements(o.getInput()))});
        return success();
      })
      .Case([&](nn::MSELossGradOp o) {
        rt.call("dpcrt_mse_loss_grad_f32",
                {rt.ptr(o.getResult()), rt.ptr(o.getGrad()),
                 rt.ptr(o.getInput()), rt.ptr(o.getTarget()),
                 rt.i64(getNumElements(o.getInput()))});
        return success();
      })
      .Case([&](nn::SGDUpdateOp o) {
        Value param = rt.ptr(o.getParam());
        Value buffer = o.getMomentumBuffer() ? rt.ptr(o.getMomentumBuffer())
                                             : rt.nullPtr();
        rt.call("dpcrt_sgd_update_f32",
                {param, buffer, rt.ptr(o.getGrad()),
                 rt.i64(getNumElements(o.getParam())),
                 // torch rounds the Python float lr to float32 (alpha=-lr).
                 readsRuntimeLearningRate(o)
                     ? rt.builder().create<LLVM::FPTruncOp>(
                           rt.getLoc(), rt.builder().getF32Type(),
                           runtimeLearningRate(rt, o.getGroup()))
                     : rt.f32(o.getLr()),
                 rt.f32(o.getMomentum()), rt.f32(o.getDampening()),
                 rt.f32(o.getWeightDecay()), rt.i32(o.getNesterov())});
        rt.setPtr(o.getNewParam(), param);
        if (o.getNewMomentumBuffer())
          rt.setPtr(o.getNewMomentumBuffer(), buffer);
        return success();
      })
      .Default([](Operation *) { return std::nullopt; });
}
