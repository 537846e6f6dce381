//===- NNBase.td - The nn dialect: value-semantics tensor compute -*- tablegen -*-===//
//
// The nn dialect holds the tensor computations of a model, its loss, its
// gradients and its optimizer update, on statically shaped ranked tensors
// with value semantics. The importer produces it from TorchScript (one op per
// aten op); the training-step passes add loss, backward and update ops.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_BASE
#define DPC_NN_BASE

include "mlir/IR/OpBase.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let cppNamespace = "::dpc::nn";
  let summary = "Value-semantics tensor compute for training";
  let description = [{
    Ops on statically shaped `tensor<...xf32>` (and `tensor<...xi64>` for
    class labels) that mirror the aten ops dpc supports, plus the backward
    ops their vector-Jacobian products are built from, losses and optimizer
    updates. Every op is pure; shapes are checked by result type inference,
    so a malformed op is a verifier error, never a crash.
  }];
  // Attributes live in the attribute dictionary so that the importer can run
  // result type inference from a plain DictionaryAttr before it creates an op.
  let usePropertiesForAttributes = 0;
}

def NN_F32Tensor : StaticShapeTensorOf<[F32]>;
def NN_I64Tensor : StaticShapeTensorOf<[I64]>;
// The 16-bit storage of an activation saved for the backward pass
// (nn.pack_saved); no op computes on it.
def NN_LowPrecisionTensor : StaticShapeTensorOf<[BF16, F16]>;
// The multiplied operands of a matrix product or a convolution: float32, or
// both bfloat16 (--precision bf16's values in 16 bits, dpc-bf16-kernels);
// the result and a bias stay float32 (products summed in float32).
def NN_F32OrBF16Tensor : StaticShapeTensorOf<[F32, BF16]>;
def NN_F32Scalar : TypeConstraint<
    And<[NN_F32Tensor.predicate,
         CPred<"::llvm::cast<::mlir::RankedTensorType>($_self).getRank() == 0">]>,
    "0-d f32 tensor">;

#endif // DPC_NN_BASE
