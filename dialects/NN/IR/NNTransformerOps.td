//===- NNTransformerOps.td - nn ops for embedding, normalization, attention and shape ops (Transformers) -*- tablegen -*-===//
//
// Included by NNOps.td; shape inference, verifiers and VJPs live in
// NNTransformerOps.cpp, the runtime calls in
// compiler/Conversion/NNToRuntime/LowerTransformerOps.cpp.
//
// Conventions of the group:
// - Dimension attributes (`dim`, `dims`, `permutation`) are non-negative:
//   the importer resolves PyTorch's negative dims.
// - Masks are f32 tensors of 0 and 1 (1 = true), the values a torch.bool
//   tensor has when it takes part in float arithmetic. `nn.compare` makes
//   them, `nn.masked_fill` reads them (any non-zero element is true).
// - Every op computes a fresh tensor (shape ops such as `nn.permute` and
//   `nn.slice` copy): only `nn.reshape` aliases its operand.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_TRANSFORMER_OPS
#define DPC_NN_TRANSFORMER_OPS

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def NN_ConstantOp : NN_Op<"constant", [InferTypeOpAdaptor]> {
  let summary = "a tensor known at compile time";
  let description = [{
    A dense f32 or i64 tensor computed when the model was imported: the
    importer evaluates aten ops whose operands are all compile-time values
    (`torch.arange(T)`, `torch.tril(torch.ones(T, T))`, ...) with LibTorch
    and materializes the resulting tensors as `nn.constant` (torch.bool
    tensors as f32 0/1 masks). Lowering copies the value from the module's
    read-only data into the op's buffer.

    ```mlir
    %pos = nn.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs NN_AnyTensor:$result);
  let assemblyFormat = "$value attr-dict";
}

//===----------------------------------------------------------------------===//
// Forward ops
//===----------------------------------------------------------------------===//

def NN_EmbeddingOp : NN_DiffOp<"embedding"> {
  let summary = "rows of a table selected by indices (aten::embedding)";
  let description = [{
    `weight` is `[V, D]`, `indices` is an i64 tensor of any shape `S` with
    values in `[0, V)`; the result is `[S..., D]` with
    `result[s, :] = weight[indices[s], :]`. An index out of range is a
    run-time error of the step.

    The gradient with respect to the weight is a scatter-add
    (`nn.embedding_grad`) in increasing index order, like torch's CPU
    `embedding_dense_backward`, so it is deterministic. Rows equal to
    `padding_idx` (when given) get no gradient, as in `nn.Embedding`.

    ```mlir
    %e = nn.embedding %w, %idx : (tensor<64x32xf32>, tensor<4x8xi64>) -> tensor<4x8x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$weight, NN_I64Tensor:$indices,
                       OptionalAttr<I64Attr>:$padding_idx);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $weight `,` $indices attr-dict `:` functional-type(operands, results)
  }];
}

def NN_LayerNormOp : NN_DiffOp<"layer_norm"> {
  let summary = "layer normalization over the trailing dimensions (aten::layer_norm)";
  let description = [{
    Normalizes `input` over its last `normalized_rank` dimensions and applies
    the affine map: with `x` a row of those dimensions,

    ```
    y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias
    ```

    where `var` is the biased variance. `weight` and `bias` have the shape of
    the normalized dimensions (the importer passes ones and zeros for
    `elementwise_affine=False`). Like torch's CPU kernel the statistics are
    computed per row and the result as `(x * rstd + (-rstd * mean)) *
    weight + bias` in f32.

    ```mlir
    %y = nn.layer_norm %x, %w, %b {normalized_rank = 1 : i64, eps = 1.0e-05 : f32} : (tensor<4x8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<4x8x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$weight,
                       NN_F32Tensor:$bias,
                       ConfinedAttr<I64Attr, [IntPositive]>:$normalized_rank,
                       F32Attr:$eps);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def NN_GeluOp : NN_DiffOp<"gelu"> {
  let summary = "Gaussian error linear unit (aten::gelu)";
  let description = [{
    `approximate = "none"` (the default): `x * 0.5 * (1 + erf(x / sqrt(2)))`;
    `approximate = "tanh"`:
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`, the two
    forms of torch.nn.functional.gelu.

    ```mlir
    %y = nn.gelu %x {approximate = "tanh"} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_SoftmaxOp : NN_DiffOp<"softmax"> {
  let summary = "softmax along one dimension (aten::softmax)";
  let description = [{
    `exp(x - max) / sum(exp(x - max))` along `dim`, computed like torch's
    CPU kernel: subtract the maximum, exponentiate, multiply by the
    reciprocal of the sum. Elements equal to `-inf` (masked attention
    scores) contribute 0.

    ```mlir
    %p = nn.softmax %s {dim = 3 : i64} : tensor<4x2x8x8xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, I64Attr:$dim);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_LogSoftmaxOp : NN_DiffOp<"log_softmax"> {
  let summary = "log-softmax along one dimension (aten::log_softmax)";
  let description = [{
    `(x - max) - log(sum(exp(x - max)))` along `dim`, as torch's CPU kernel
    computes it.

    ```mlir
    %l = nn.log_softmax %x {dim = 1 : i64} : tensor<32x64xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, I64Attr:$dim);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_DivOp : NN_BinaryOp<"div", "lhs / rhs"> {
  let description = [{
    Elementwise true division of two f32 tensors whose shapes broadcast as
    in NumPy/PyTorch. Division by a number (`x / math.sqrt(d)`) divides by
    a 0-d `nn.fill` of the number rounded to f32, which is what torch does
    (a division, not a multiplication by the reciprocal, so the results are
    the same bits).

    ```mlir
    %y = nn.div %x, %c : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs);
}

def NN_CompareOp : NN_DiffOp<"compare"> {
  let summary = "elementwise comparison giving an f32 0/1 mask";
  let description = [{
    `result = (lhs <predicate> rhs) ? 1 : 0` with NumPy broadcasting, where
    `predicate` is one of `eq`, `ne`, `lt`, `le`, `gt`, `ge` (aten::eq, ...).
    Comparisons with a number compare with a 0-d `nn.fill`. The result is a
    mask in the group's f32 0/1 representation. Its gradient is zero (torch:
    boolean results do not require grad), so the VJP gives none.

    ```mlir
    %m = nn.compare %mask, %zero {predicate = "eq"} : (tensor<1x1x8x8xf32>, tensor<f32>) -> tensor<1x1x8x8xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs, StrAttr:$predicate);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def NN_MaskedFillOp : NN_DiffOp<"masked_fill"> {
  let summary = "replace the elements where a mask is true (aten::masked_fill)";
  let description = [{
    `result = mask != 0 ? value : input`, where `mask` (an f32 0/1 mask)
    broadcasts to the shape of `input`; the result has `input`'s type. The
    gradient of `input` is the result gradient with the masked elements set
    to 0; the mask gets none.

    ```mlir
    %a = nn.masked_fill %s, %m {value = 0xFF800000 : f32} : (tensor<4x2x8x8xf32>, tensor<1x1x8x8xf32>) -> tensor<4x2x8x8xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$mask, F32Attr:$value);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $mask attr-dict `:` functional-type(operands, results)
  }];
}

def NN_SumOp : NN_DiffOp<"sum"> {
  let summary = "sum over dimensions (aten::sum)";
  let description = [{
    Sums `input` over `dims` (sorted, distinct; all dimensions for a full
    reduction). With `keepdim` the reduced dimensions stay with size 1,
    otherwise they are dropped. Accumulates in f64 in increasing index
    order, then rounds to f32.

    ```mlir
    %s = nn.sum %x {dims = array<i64: 1>} : tensor<4x8xf32> -> tensor<4xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, DenseI64ArrayAttr:$dims,
                       UnitAttr:$keepdim);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def NN_MeanOp : NN_DiffOp<"mean"> {
  let summary = "mean over dimensions (aten::mean)";
  let description = [{
    Like `nn.sum`, then divided by the number of summed elements (torch's
    CPU mean is the sum divided by the count, not multiplied by its
    reciprocal).

    ```mlir
    %m = nn.mean %x {dims = array<i64: 0, 1>} : tensor<4x8xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, DenseI64ArrayAttr:$dims,
                       UnitAttr:$keepdim);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Shape ops (copies)
//===----------------------------------------------------------------------===//

def NN_PermuteOp : NN_DiffOp<"permute"> {
  let summary = "permutation of the dimensions (aten::permute, N-d aten::transpose)";
  let description = [{
    `result` dimension `i` is `input` dimension `permutation[i]`. The result
    is a fresh row-major copy (what `.contiguous()` after a transpose gives
    in PyTorch). Its VJP is the inverse permutation. The identity folds
    away, and a permute of a permute is one permute (one copy instead of
    two: `k.transpose(1, 2).transpose(-2, -1)` in attention).

    ```mlir
    %t = nn.permute %x {permutation = array<i64: 0, 2, 1, 3>} : tensor<4x8x2x16xf32> -> tensor<4x2x8x16xf32>
    ```
  }];
  let arguments = (ins NN_AnyTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs NN_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def NN_BroadcastToOp : NN_Op<"broadcast_to",
    [DeclareOpInterfaceMethods<VJPOpInterface>]> {
  let summary = "copy broadcast to a larger shape (aten::expand)";
  let description = [{
    The result shape must be a NumPy broadcast of the input shape; each
    result element is the input element it broadcasts from. The VJP is
    `nn.sum_to`. The result type is stated, not inferred.

    ```mlir
    %b = nn.broadcast_to %x : tensor<1x8xf32> to tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_AnyTensor:$input);
  let results = (outs NN_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

def NN_SliceOp : NN_DiffOp<"slice"> {
  let summary = "elements start, start + step, ... < end along one dimension (aten::slice)";
  let description = [{
    `0 <= start <= end <= size(dim)` and `step >= 1` (the importer clamps
    PyTorch's bounds). The result has `ceil((end - start) / step)` elements
    along `dim`. The VJP scatters the gradient back into zeros
    (`nn.slice_grad`).

    ```mlir
    %m = nn.slice %mask {dim = 2 : i64, start = 0 : i64, end = 8 : i64} : tensor<1x1x16x16xf32> -> tensor<1x1x8x16xf32>
    ```
  }];
  let arguments = (ins NN_AnyTensor:$input, I64Attr:$dim, I64Attr:$start,
                       I64Attr:$end, DefaultValuedAttr<I64Attr, "1">:$step);
  let results = (outs NN_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def NN_SplitOp : NN_DiffOp<"split"> {
  let summary = "consecutive pieces along one dimension (aten::split, aten::chunk)";
  let description = [{
    Result `i` holds `sizes[i]` consecutive elements of `input` along `dim`;
    the sizes add up to the dimension's size. The VJP concatenates the
    result gradients (zeros for results without one).

    ```mlir
    %q, %k, %v = nn.split %qkv {dim = 2 : i64, sizes = array<i64: 32, 32, 32>} : tensor<4x8x96xf32> -> tensor<4x8x32xf32>, tensor<4x8x32xf32>, tensor<4x8x32xf32>
    ```
  }];
  let arguments = (ins NN_AnyTensor:$input, I64Attr:$dim,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<NN_AnyTensor>:$results);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($results)";
}

def NN_ConcatOp : NN_DiffOp<"concat"> {
  let summary = "concatenation along one dimension (aten::cat)";
  let description = [{
    The operands agree in element type and in every dimension but `dim`.
    The VJP splits the gradient.

    ```mlir
    %c = nn.concat %a, %b {dim = 1 : i64} : (tensor<4x8xf32>, tensor<4x3xf32>) -> tensor<4x11xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_AnyTensor>:$inputs, I64Attr:$dim);
  let results = (outs NN_AnyTensor:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type($inputs, $result)
  }];
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def NN_NLLLossOp : NN_DiffOp<"nll_loss"> {
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
  let arguments = (ins NN_F32Tensor:$input, NN_I64Tensor:$labels);
  let results = (outs NN_F32Scalar:$result);
  let assemblyFormat = [{
    $input `,` $labels attr-dict `:` type($input) `,` type($labels)
  }];
}

//===----------------------------------------------------------------------===//
// Backward ops (built by the VJPs above)
//===----------------------------------------------------------------------===//

def NN_EmbeddingGradOp : NN_Op<"embedding_grad"> {
  let summary = "gradient of embedding with respect to its weight: a scatter-add";
  let description = [{
    `result` (`[V, D]`) starts at zero; then for every index position `s`
    in increasing row-major order, `result[indices[s], :] += grad[s, :]`
    (in f32, skipping `padding_idx`), which is torch's CPU
    `embedding_dense_backward` without `scale_grad_by_freq`. The result
    type is stated.
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_I64Tensor:$indices,
                       OptionalAttr<I64Attr>:$padding_idx);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $grad `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_LayerNormGradOp : NN_GradOp<"layer_norm_grad"> {
  let summary = "gradients of layer_norm: input, weight and bias";
  let description = [{
    From the result gradient `grad`, the forward `input` and `weight`,
    recomputes each row's mean and rstd as the forward did and returns, as
    torch's CPU `layer_norm_backward`:

    ```
    dx     = rstd * grad * weight + b * x + c,
             b = (sum(grad * weight) * mean - sum(grad * weight * x)) * rstd^3 / n,
             c = -b * mean - sum(grad * weight) * rstd / n
    dweight = sum over rows of grad * (x - mean) * rstd
    dbias   = sum over rows of grad
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$input,
                       NN_F32Tensor:$weight,
                       ConfinedAttr<I64Attr, [IntPositive]>:$normalized_rank,
                       F32Attr:$eps);
  let results = (outs NN_F32Tensor:$input_grad, NN_F32Tensor:$weight_grad,
                      NN_F32Tensor:$bias_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def NN_GeluGradOp : NN_GradOp<"gelu_grad", [AllTypesMatch<["grad", "input"]>]> {
  let summary = "gradient of gelu from its input";
  let description = [{
    torch's `gelu_backward`: for `approximate = "none"`,
    `grad * (cdf + x * pdf)` with `cdf = 0.5 * (1 + erf(x / sqrt(2)))`,
    `pdf = exp(-x^2 / 2) / sqrt(2 pi)`; for `"tanh"` the derivative of the
    tanh form.
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($grad)";
}

def NN_SoftmaxGradOp : NN_GradOp<"softmax_grad", [AllTypesMatch<["grad", "output"]>]> {
  let summary = "gradient of softmax from its output";
  let description = "`(grad - sum(grad * y)) * y` along `dim` (torch's `_softmax_backward_data`).";
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$output, I64Attr:$dim);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($grad)";
}

def NN_LogSoftmaxGradOp : NN_GradOp<"log_softmax_grad", [AllTypesMatch<["grad", "output"]>]> {
  let summary = "gradient of log_softmax from its output";
  let description = "`grad - exp(y) * sum(grad)` along `dim` (torch's `_log_softmax_backward_data`).";
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$output, I64Attr:$dim);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($grad)";
}

def NN_SliceGradOp : NN_Op<"slice_grad"> {
  let summary = "gradient of slice: the gradient placed into zeros";
  let description = [{
    A tensor of the stated result type (the sliced operand's) that is zero
    except at the positions `nn.slice` with the same attributes reads, which
    hold `grad`.
  }];
  let arguments = (ins NN_F32Tensor:$grad, I64Attr:$dim, I64Attr:$start,
                       I64Attr:$end, DefaultValuedAttr<I64Attr, "1">:$step);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `to` type($result)";
  let hasVerifier = 1;
}

def NN_NLLLossGradOp : NN_Op<"nll_loss_grad"> {
  let summary = "gradient of nll_loss with respect to its input";
  let description = [{
    Zero except `result[i, labels[i]] = -grad / N` (the stated result type
    is the input's `[N, C]`).
  }];
  let arguments = (ins NN_F32Scalar:$grad, NN_I64Tensor:$labels);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $grad `,` $labels attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // DPC_NN_TRANSFORMER_OPS
