//===- NNOps.td - Operations of the nn dialect ------------*- tablegen -*-===//

#ifndef DPC_NN_OPS
#define DPC_NN_OPS

include "dialects/NN/IR/NNBase.td"
include "dialects/NN/IR/NNInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, !listconcat(traits, [Pure])>;

// Ops whose result type follows from operands and attributes, and which know
// their vector-Jacobian product.
class NN_DiffOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptor,
          DeclareOpInterfaceMethods<VJPOpInterface>])>;

//===----------------------------------------------------------------------===//
// Forward ops (imported from aten)
//===----------------------------------------------------------------------===//

def NN_LinearOp : NN_DiffOp<"linear"> {
  let summary = "affine map y = x W^T + b (aten::linear, nn.Linear)";
  let description = [{
    `input` is `[..., K]` (any rank >= 1), `weight` is `[N, K]`, the
    optional `bias` is `[N]`; the result is `[..., N]`. The leading
    dimensions are flattened into the `M` rows of one GEMM (torch does the
    same for contiguous 3-d inputs). Computed like torch's addmm: the bias
    is broadcast into the output first, then the product is accumulated onto
    it.

    ```mlir
    %y = nn.linear %x, %w, %b : (tensor<16x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<16x64xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$weight,
                       Optional<NN_F32Tensor>:$bias);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def NN_MatmulOp : NN_DiffOp<"matmul"> {
  let summary = "(batched) matrix product, optionally transposed";
  let description = [{
    `result = op(lhs) @ op(rhs)` where `op` transposes the last two
    dimensions of its operand when the corresponding `transpose_lhs` /
    `transpose_rhs` flag is set. The flags let the backward pass express
    `dy @ W` and `dy^T @ x` without materializing transposes; they map onto
    GEMM calls.

    Operands have rank >= 2: `[..., M, K] @ [..., K, N] -> [..., M, N]`,
    where the leading (batch) dimensions broadcast as in torch.matmul
    (`[B, H, T, D] @ [B, H, D, T]`, `[B, T, C] @ [C, N]`). Lowering calls
    one GEMM per batch element, or a single GEMM when `rhs` has no batch
    dimensions.

    ```mlir
    %c = nn.matmul %a, %b {transpose_rhs} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def NN_TransposeOp : NN_DiffOp<"transpose"> {
  let summary = "transpose of a 2-d tensor (aten::t, aten::transpose(0, 1))";
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

class NN_BinaryOp<string mnemonic, string formula> : NN_DiffOp<mnemonic> {
  let summary = "elementwise " # formula # " with NumPy broadcasting";
  let description = [{
    Elementwise `}] # formula # [{` of two f32 tensors whose shapes broadcast
    as in NumPy/PyTorch; the result has the broadcast shape.
  }];
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def NN_AddOp : NN_BinaryOp<"add", "lhs + alpha * rhs"> {
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}

def NN_SubOp : NN_BinaryOp<"sub", "lhs - alpha * rhs"> {
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}

def NN_MulOp : NN_BinaryOp<"mul", "lhs * rhs"> {
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs);
}

// The elementwise unary family: one record per op names its formula, the
// aten operator it imports and the runtime kind that computes it
// (DPCRT_UNARY_*, runtime/include/dpc/unary_kinds.def). Result type, import
// and lowering follow from the record (ElementwiseUnaryOpInterface); only
// the VJP is written by hand (NNGradients.cpp).
class NN_UnaryOp<string mnemonic, string formula, string atenName,
                 string unaryKind>
    : NN_DiffOp<mnemonic, [ElementwiseUnaryOpInterface]> {
  let summary = "elementwise " # formula # " (" # atenName # ")";
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let extraClassDeclaration = [{
    static constexpr ::llvm::StringLiteral kAtenName = "}] # atenName # [{";
    static constexpr int32_t kUnaryKind = }] # unaryKind # [{;
  }];
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, ::std::optional<::mlir::Location>,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      types.push_back(adaptor.getInput().getType());
      return ::mlir::success();
    }
  }];
}

def NN_ReluOp : NN_UnaryOp<"relu", "max(x, 0)", "aten::relu", "DPCRT_UNARY_RELU">;
def NN_TanhOp : NN_UnaryOp<"tanh", "tanh(x)", "aten::tanh", "DPCRT_UNARY_TANH">;
def NN_SigmoidOp : NN_UnaryOp<"sigmoid", "1 / (1 + exp(-x))", "aten::sigmoid",
                              "DPCRT_UNARY_SIGMOID">;
def NN_ExpOp : NN_UnaryOp<"exp", "exp(x)", "aten::exp", "DPCRT_UNARY_EXP">;

def NN_ScaleOp : NN_DiffOp<"scale"> {
  let summary = "multiplication by a compile-time constant";
  let description = [{
    `result = input * factor`. Produced for `x * 2.0`, `-x` and by the
    backward pass of `add`/`sub` with `alpha`.
  }];
  let arguments = (ins NN_F32Tensor:$input, F32Attr:$factor);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input `,` $factor attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def NN_CrossEntropyOp : NN_DiffOp<"cross_entropy"> {
  let summary = "mean cross-entropy of logits against class indices";
  let description = [{
    `logits` is `[N, C]`, `labels` is `[N]` of class indices in `[0, C)`;
    the result is the scalar `mean_i -log_softmax(logits[i])[labels[i]]`,
    torch.nn.functional.cross_entropy with reduction 'mean'.
  }];
  let arguments = (ins NN_F32Tensor:$logits, NN_I64Tensor:$labels);
  let results = (outs NN_F32Scalar:$result);
  let assemblyFormat = [{
    $logits `,` $labels attr-dict `:` type($logits) `,` type($labels)
  }];
}

def NN_MSELossOp : NN_DiffOp<"mse_loss", [AllTypesMatch<["input", "target"]>]> {
  let summary = "mean squared error";
  let description = [{
    The scalar `mean((input - target)^2)`, torch.nn.functional.mse_loss with
    reduction 'mean'; both operands have the same shape.
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$target);
  let results = (outs NN_F32Scalar:$result);
  let assemblyFormat = "$input `,` $target attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Backward ops (built by the VJPs above)
//===----------------------------------------------------------------------===//

class NN_GradOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptor])>;

def NN_ReluGradOp : NN_GradOp<"relu_grad", [AllTypesMatch<["grad", "input"]>]> {
  let summary = "gradient of relu: grad where input > 0, else 0";
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($grad)";
}

def NN_TanhGradOp : NN_GradOp<"tanh_grad", [AllTypesMatch<["grad", "output"]>]> {
  let summary = "gradient of tanh from its output: grad * (1 - y^2)";
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$output);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($grad)";
}

def NN_SigmoidGradOp : NN_GradOp<"sigmoid_grad", [AllTypesMatch<["grad", "output"]>]> {
  let summary = "gradient of sigmoid from its output: grad * y * (1 - y)";
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$output);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($grad)";
}

def NN_CrossEntropyGradOp : NN_GradOp<"cross_entropy_grad"> {
  let summary = "gradient of cross_entropy with respect to the logits";
  let description = [{
    `grad * (softmax(logits) - onehot(labels)) / N`, where `grad` is the
    scalar gradient of the loss.
  }];
  let arguments = (ins NN_F32Scalar:$grad, NN_F32Tensor:$logits,
                       NN_I64Tensor:$labels);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $grad `,` $logits `,` $labels attr-dict `:` functional-type(operands, results)
  }];
}

def NN_MSELossGradOp : NN_GradOp<"mse_loss_grad"> {
  let summary = "gradient of mse_loss with respect to its input";
  let description = "`grad * 2 * (input - target) / numel`.";
  let arguments = (ins NN_F32Scalar:$grad, NN_F32Tensor:$input,
                       NN_F32Tensor:$target);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $grad `,` $input `,` $target attr-dict `:` functional-type(operands, results)
  }];
}

def NN_SumToOp : NN_Op<"sum_to"> {
  let summary = "sum over the dimensions a broadcast expanded";
  let description = [{
    The adjoint of broadcasting (torch's `sum_to_size`): sums `input` down to
    the result shape, which must broadcast to the input shape. Summation
    order is increasing input index, so results are deterministic.

    ```mlir
    %db = nn.sum_to %dy : tensor<16x64xf32> to tensor<64xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_AnyTensor : StaticShapeTensorOf<[F32, I64]>;

def NN_ReshapeOp : NN_Op<"reshape", [
    DeclareOpInterfaceMethods<StorageAliasOpInterface, ["isStorageView"]>,
    DeclareOpInterfaceMethods<VJPOpInterface>]> {
  let summary = "the same elements in another shape (view, reshape, flatten)";
  let description = [{
    Reinterprets the row-major elements of `input` with the result's shape;
    the element count and type are unchanged. Lowering gives the result the
    input's storage: no data moves.

    ```mlir
    %f = nn.reshape %x : tensor<8x16x4x4xf32> to tensor<8x256xf32>
    ```
  }];
  let arguments = (ins NN_AnyTensor:$input);
  let results = (outs NN_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_FillOp : NN_Op<"fill"> {
  let summary = "a tensor with every element equal to `value`";
  let description = "Seeds reverse-mode autodiff with `d loss / d loss = 1`.";
  let arguments = (ins F32Attr:$value);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$value attr-dict `:` type($result)";
}

def NN_CopyOp : NN_Op<"copy", [InferTypeOpAdaptor]> {
  let summary = "a fresh copy of a tensor";
  let description = [{
    Gives a value its own storage. The bucketing pass copies a gradient into
    its bucket when the gradient value has other uses that must not observe
    the in-place all-reduce.
  }];
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Optimizer updates
//===----------------------------------------------------------------------===//

def NN_SGDUpdateOp : NN_Op<"sgd_update", [
    DeclareOpInterfaceMethods<StorageAliasOpInterface>,
    InferTypeOpAdaptor]> {
  let summary = "one torch.optim.SGD step for one parameter";
  let description = [{
    ```
    d = grad + weight_decay * param
    if momentum != 0:
      buf = d                                          (first step)
      buf = momentum * buf + (1 - dampening) * d       (later steps)
      d = nesterov ? d + momentum * buf : buf
    param = param - lr * d
    ```
    The momentum buffer operand and result are present exactly when
    `momentum` is non-zero. Whether a step is the first is known at run time
    (the runtime's step counter). Lowering updates the parameter and the
    buffer in place.

    `group` is the parameter's group (torch.optim's param_groups). When the
    function records its groups (`dpc.param_groups`, set by dpc-sgd), the
    update reads the group's current learning rate from the runtime
    (`dpcrt_learning_rate`) and rounds it to f32 as torch rounds its Python
    float, and `lr` is the group's initial learning rate; otherwise `lr` is
    compiled in.
  }];
  let arguments = (ins NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       Optional<NN_F32Tensor>:$momentum_buffer,
                       F32Attr:$lr, DefaultValuedAttr<F32Attr, "0.0">:$momentum,
                       DefaultValuedAttr<F32Attr, "0.0">:$dampening,
                       DefaultValuedAttr<F32Attr, "0.0">:$weight_decay,
                       UnitAttr:$nesterov,
                       DefaultValuedAttr<ConfinedAttr<I32Attr, [IntNonNegative]>, "0">:$group);
  let results = (outs NN_F32Tensor:$new_param,
                      Optional<NN_F32Tensor>:$new_momentum_buffer);
  let assemblyFormat = [{
    $param `,` $grad (`,` $momentum_buffer^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

// Op groups in files of their own.
include "dialects/NN/IR/NNConvOps.td"
include "dialects/NN/IR/NNTransformerOps.td"
include "dialects/NN/IR/NNOptimizerOps.td"

#endif // DPC_NN_OPS
