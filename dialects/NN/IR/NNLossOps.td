//===- NNLossOps.td - nn losses ----------------------------*- tablegen -*-===//
//
// The Loss family (docs/ARCHITECTURE.md, "Where to add an op"); included by
// NNOps.td. Shape inference, verifiers and VJPs live in NNLossOps.cpp, the
// import in compiler/Import/ImportLossOps.cpp, the runtime calls in
// compiler/Conversion/NNToRuntime/LowerLossOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_LOSS_OPS
#define DPC_NN_LOSS_OPS

def NN_CrossEntropyOp : NN_DiffOp<"cross_entropy", [NN_HasFloat64Kernels]> {
  let summary = "mean cross-entropy of logits against class indices";
  let description = [{
    `logits` is `[N, C]`, `labels` is `[N]` of class indices in `[0, C)`;
    the result is the scalar `mean_i -log_softmax(logits[i])[labels[i]]`,
    torch.nn.functional.cross_entropy with reduction 'mean'.
  }];
  let arguments = (ins NN_FloatTensor:$logits, NN_I64Tensor:$labels);
  let results = (outs NN_FloatScalar:$result);
  let assemblyFormat = [{
    $logits `,` $labels attr-dict `:` type($logits) `,` type($labels)
  }];
}

def NN_MSELossOp : NN_DiffOp<"mse_loss", [NN_HasFloat64Kernels, AllTypesMatch<["input", "target"]>]> {
  let summary = "mean squared error";
  let description = [{
    The scalar `mean((input - target)^2)`, torch.nn.functional.mse_loss with
    reduction 'mean'; both operands have the same shape.
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$target);
  let results = (outs NN_FloatScalar:$result);
  let assemblyFormat = "$input `,` $target attr-dict `:` type($input)";
}

def NN_NLLLossOp : NN_DiffOp<"nll_loss", [NN_HasFloat64Kernels]> {
  let summary = "mean negative log-likelihood of class indices (aten::nll_loss)";
  let description = [{
    `input` is `[N, C]` (log-probabilities), `labels` is `[N]` of class
    indices in `[0, C)`; the result is the scalar `mean_i -input[i,
    labels[i]]`, torch.nn.functional.nll_loss with reduction 'mean' and no
    class weights.

    ```mlir
    %l = nn.nll_loss %logp, %y : tensor<32x64xf32>, tensor<32xi64>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_I64Tensor:$labels);
  let results = (outs NN_FloatScalar:$result);
  let assemblyFormat = [{
    $input `,` $labels attr-dict `:` type($input) `,` type($labels)
  }];
}

//===----------------------------------------------------------------------===//
// Backward ops (built by the VJPs above)
//===----------------------------------------------------------------------===//

def NN_CrossEntropyGradOp : NN_GradOp<"cross_entropy_grad", [NN_HasFloat64Kernels]> {
  let summary = "gradient of cross_entropy with respect to the logits";
  let description = [{
    `grad * (softmax(logits) - onehot(labels)) / N`, where `grad` is the
    scalar gradient of the loss.
  }];
  let arguments = (ins NN_FloatScalar:$grad, NN_FloatTensor:$logits,
                       NN_I64Tensor:$labels);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $logits `,` $labels attr-dict `:` functional-type(operands, results)
  }];
}

def NN_MSELossGradOp : NN_GradOp<"mse_loss_grad", [NN_HasFloat64Kernels]> {
  let summary = "gradient of mse_loss with respect to its input";
  let description = "`grad * 2 * (input - target) / numel`.";
  let arguments = (ins NN_FloatScalar:$grad, NN_FloatTensor:$input,
                       NN_FloatTensor:$target);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $input `,` $target attr-dict `:` functional-type(operands, results)
  }];
}

def NN_NLLLossGradOp : NN_Op<"nll_loss_grad", [NN_HasFloat64Kernels]> {
  let summary = "gradient of nll_loss with respect to its input";
  let description = [{
    Zero except `result[i, labels[i]] = -grad / N` (the stated result type
    is the input's `[N, C]`).
  }];
  let arguments = (ins NN_FloatScalar:$grad, NN_I64Tensor:$labels);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $labels attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // DPC_NN_LOSS_OPS
