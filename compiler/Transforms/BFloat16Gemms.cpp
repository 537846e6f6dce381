//===- BFloat16Gemms.cpp - bfloat16 GEMMs on bfloat16 operands -----------===//
//
// Under torch.autocast a linear or a matmul multiplies bfloat16 tensors
// with a bfloat16 GEMM: on CPUs with bfloat16 units (AVX512-BF16, AMX)
// oneDNN's, about twice the float32 throughput. dpc's float32 tensors
// hold the same bfloat16 values (compiler/Import/Autocast.cpp), so the
// GEMM may read them as bfloat16: this pass gives every single-GEMM
// nn.linear / nn.matmul whose two matrix operands are bfloat16 values the
// 16-bit copies of them,
//
//   %xp = nn.pack_saved %x : tensor<64x512xf32> -> tensor<64x512xbf16>
//   %y = nn.linear %xp, %wp, %b : (tensor<64x512xbf16>, ...) -> f32
//
// and the lowering calls dpcrt_gemm_bf16. A value is "bfloat16" as in
// dpc-save-low-precision (made by nn.round_bf16 or data movement of such
// values), or the result of an nn.unpack_saved, whose packed operand the
// GEMM reads directly. Each value is packed once, right after it is made,
// and every GEMM and the backward pass's saved copy share that pack.
// Products of bfloat16 values are exact in float32, so the results are
// the float32 GEMM's up to the order of the float32 sums.
//
// Last, the roundings whose every use is a pack are folded into the packs
// (nn.pack_saved rounds to nearest even as nn.round_bf16 does): a weight's
// bfloat16 copy and a linear layer's rounded input then exist in 16 bits
// only, as in PyTorch.
//
// The batched matmuls of attention ([B, H, T, D] @ [B, H, D, T]) stay
// float32: one GEMM per batch element is too small to pay for the packs.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

namespace dpc {
#define GEN_PASS_DEF_BFLOAT16GEMMS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

/// Ops whose results hold only values of their tensor operands (as in
/// dpc-save-low-precision).
bool movesDataOnly(Operation *op) {
  return isa<nn::ReshapeOp, nn::TransposeOp, nn::PermuteOp, nn::BroadcastToOp,
             nn::SliceOp, nn::SplitOp, nn::ConcatOp, nn::CopyOp, nn::DetachOp>(
      op);
}

bool isBFloat16Tensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getElementType().isBF16();
}

struct BFloat16GemmsPass
    : public dpc::impl::BFloat16GemmsBase<BFloat16GemmsPass> {
  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    Block &body = func.getBody().front();

    // The float32 values that hold bfloat16 values, in program order.
    llvm::DenseSet<Value> exact;
    for (Operation &op : body) {
      bool holdsBFloat16 =
          isa<nn::RoundToBF16Op>(op) ||
          (isa<nn::UnpackSavedOp>(op) && isBFloat16Tensor(op.getOperand(0))) ||
          (movesDataOnly(&op) && llvm::all_of(op.getOperands(), [&](Value v) {
             return !isa<RankedTensorType>(v.getType()) || exact.contains(v);
           }));
      if (holdsBFloat16)
        exact.insert(op.result_begin(), op.result_end());
    }

    llvm::DenseMap<Value, Value> packOf;
    auto packed = [&](Value v) -> Value {
      if (auto unpack = v.getDefiningOp<nn::UnpackSavedOp>())
        return unpack.getInput();
      Value &pack = packOf[v];
      if (!pack) {
        OpBuilder b(v.getDefiningOp());
        b.setInsertionPointAfterValue(v);
        auto type = cast<RankedTensorType>(v.getType());
        pack = b.create<nn::PackSavedOp>(v.getLoc(),
                                         type.clone(b.getBF16Type()), v);
      }
      return pack;
    };
    SmallVector<Operation *> gemms;
    for (Operation &op : body) {
      if (auto linear = dyn_cast<nn::LinearOp>(op)) {
        if (exact.contains(linear.getInput()) &&
            exact.contains(linear.getWeight()))
          gemms.push_back(&op);
      } else if (auto matmul = dyn_cast<nn::MatmulOp>(op)) {
        if (matmul.isSingleGemm() && exact.contains(matmul.getLhs()) &&
            exact.contains(matmul.getRhs()))
          gemms.push_back(&op);
      }
    }
    for (Operation *gemm : gemms)
      for (OpOperand &operand : gemm->getOpOperands().take_front(2))
        operand.set(packed(operand.get()));

    // One pack per value: dpc-save-low-precision's, made after the last
    // forward use, gives way to the one made right after the value.
    for (auto [value, pack] : packOf)
      for (Operation *user : llvm::make_early_inc_range(value.getUsers()))
        if (auto other = dyn_cast<nn::PackSavedOp>(user);
            other && other.getResult() != pack &&
            isBFloat16Tensor(other.getResult())) {
          other.getResult().replaceAllUsesWith(pack);
          other.erase();
        }
    // Unpacks nothing reads any more, then roundings only packs read.
    for (auto unpack :
         llvm::make_early_inc_range(body.getOps<nn::UnpackSavedOp>()))
      if (unpack->use_empty())
        unpack.erase();
    for (auto round :
         llvm::make_early_inc_range(body.getOps<nn::RoundToBF16Op>())) {
      bool onlyPacked = !round->use_empty() &&
                        llvm::all_of(round->getUsers(), [](Operation *user) {
                          return isa<nn::PackSavedOp>(user);
                        });
      if (!onlyPacked)
        continue;
      for (Operation *user : llvm::make_early_inc_range(round->getUsers()))
        user->setOperand(0, round.getInput());
      round.erase();
    }
  }
};

} // namespace
