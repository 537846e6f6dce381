//===- BFloat16Kernels.cpp - bfloat16 products on bfloat16 operands ------===//
//
// Under torch.autocast linear, matmul and the convolutions multiply
// bfloat16 tensors with bfloat16 kernels: on CPUs with bfloat16 units
// (AVX512-BF16, AMX) oneDNN's, about twice the float32 throughput. dpc's
// float32 tensors hold the same bfloat16 values
// (compiler/Import/Autocast.cpp), so those kernels may read them as
// bfloat16: this pass gives every product whose two multiplied operands
// are bfloat16 values the 16-bit copies of them,
//
//   %xp = nn.pack_saved %x : tensor<64x512xf32> -> tensor<64x512xbf16>
//   %y = nn.linear %xp, %wp, %b : (tensor<64x512xbf16>, ...) -> f32
//
// and the lowering calls the _bf16 kernel (dpcrt_gemm_bf16,
// dpcrt_conv2d*_bf16). The products: nn.linear, an nn.matmul that is one
// GEMM, nn.conv2d and its two gradients (their result stays float32, a
// bias too). A value is "bfloat16" as in dpc-save-low-precision (made by
// nn.round_bf16 or data movement or selection of such values), or the
// result of an
// nn.unpack_saved, whose packed operand the product reads directly. Each
// value is packed once, right after it is made, and every product and the
// backward pass's saved copy share that pack. Products of bfloat16 values
// are exact in float32, so the results are the float32 kernels' up to the
// order of the float32 sums.
//
// Last, the roundings whose every use is a pack are folded into the packs
// (nn.pack_saved rounds to nearest even as nn.round_bf16 does): a weight's
// bfloat16 copy, a layer's rounded input and a rounded gradient that only
// products read then exist in 16 bits only, as in PyTorch.
//
// The batched matmuls of attention ([B, H, T, D] @ [B, H, D, T]) stay
// float32: one GEMM per batch element is too small to pay for the packs.
//
//===----------------------------------------------------------------------===//

#include "compiler/TrainStep/TrainStep.h"
#include "compiler/Transforms/LowPrecisionValues.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

namespace dpc {
#define GEN_PASS_DEF_BFLOAT16KERNELS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dpc

using namespace mlir;
using namespace dpc;

namespace {

bool isBFloat16Tensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getElementType().isBF16();
}

struct BFloat16KernelsPass
    : public dpc::impl::BFloat16KernelsBase<BFloat16KernelsPass> {
  void runOnOperation() override {
    func::FuncOp func = lookupFunction(getOperation(), kTrainStepFuncName);
    if (!func)
      return signalPassFailure();
    Block &body = func.getBody().front();

    // The float32 values that hold bfloat16 values.
    llvm::DenseSet<Value> exact =
        findLowPrecisionValues(body, [](Operation *op) {
          return isa<nn::RoundToBF16Op>(op) ||
                 (isa<nn::UnpackSavedOp>(op) &&
                  isBFloat16Tensor(op->getOperand(0)));
        });

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
    // The products whose two multiplied operands (the first two) are
    // bfloat16 values.
    SmallVector<Operation *> products;
    for (Operation &op : body) {
      bool product = isa<nn::LinearOp, nn::Conv2dOp, nn::Conv2dInputGradOp,
                         nn::Conv2dWeightGradOp>(op);
      if (auto matmul = dyn_cast<nn::MatmulOp>(op))
        product = matmul.isSingleGemm();
      if (product && exact.contains(op.getOperand(0)) &&
          exact.contains(op.getOperand(1)))
        products.push_back(&op);
    }
    for (Operation *op : products)
      for (OpOperand &operand : op->getOpOperands().take_front(2))
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
