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

// The float tensors the ops compute on: float32, or float64 in a
// model.double() model. An op computes in one of the two (no mixing), and in
// float64 only where it has float64 kernels (NN_HasFloat64Kernels).
def NN_FloatTensor : StaticShapeTensorOf<[F32, F64]>;
def NN_I64Tensor : StaticShapeTensorOf<[I64]>;
// The 16-bit storage of an activation saved for the backward pass
// (nn.pack_saved); no op computes on it.
def NN_LowPrecisionTensor : StaticShapeTensorOf<[BF16, F16]>;
// The multiplied operands of a matrix product or a convolution: float32
// (float64), or both bfloat16 (--precision bf16's values in 16 bits,
// dpc-bf16-kernels); the result and a bias stay float32 (products summed
// in float32).
def NN_FloatOrBF16Tensor : StaticShapeTensorOf<[F32, F64, BF16]>;
def NN_FloatScalar : TypeConstraint<
    And<[NN_FloatTensor.predicate,
         CPred<"::llvm::cast<::mlir::RankedTensorType>($_self).getRank() == 0">]>,
    "0-d float tensor">;

// A float constant of an op that has float64 kernels (a factor, an alpha, a
// fill value, a learning rate): float32 on float32 tensors, float64 on
// float64 ones (nn::floatAttrFor), so a float64 model's constants are not
// rounded to float32 (NN_Float64Checked verifies it).
def NN_FloatAttr : TypedAttrBase<F32, "FloatAttr",
    And<[CPred<"::llvm::isa<::mlir::FloatAttr>($_self)">,
         Or<[CPred<"::llvm::cast<::mlir::FloatAttr>($_self).getType().isF32()">,
             CPred<"::llvm::cast<::mlir::FloatAttr>($_self).getType().isF64()">]>]>,
    "32-bit or 64-bit float attribute"> {
  let returnType = [{ ::llvm::APFloat }];
}

// float64: the ops with float64 kernels (kernels.def's _f64 twins) carry
// NN_HasFloat64Kernels. Every nn op verifies (NN_Float64Checked, in
// NN_Op) that it computes in float64 only if it has them, and never on
// float32 and float64 tensors at once, so a model.double() model that uses
// another op is refused at import, at the op's model line, instead of
// failing in the lowering (dialects/NN/IR/NNFloat64.cpp).
def NN_HasFloat64Kernels : NativeOpTrait<"HasFloat64Kernels"> {
  let cppNamespace = "::dpc::nn";
}
def NN_Float64Checked : NativeOpTrait<"Float64Checked"> {
  let cppNamespace = "::dpc::nn";
}

#endif // DPC_NN_BASE
