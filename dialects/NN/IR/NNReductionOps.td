//===- NNReductionOps.td - nn reductions ---*- tablegen -*-===//
//
// The Reduction family (docs/ARCHITECTURE.md, "Where to add an op"); included by
// NNOps.td. Shape inference, verifiers and VJPs live in NNReductionOps.cpp, the
// import in compiler/Import/ImportReductionOps.cpp, the runtime calls in
// compiler/Conversion/NNToRuntime/LowerReductionOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_REDUCTION_OPS
#define DPC_NN_REDUCTION_OPS

def NN_SumOp : NN_DiffOp<"sum", [NN_HasFloat64Kernels]> {
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
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$dims,
                       UnitAttr:$keepdim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def NN_MeanOp : NN_DiffOp<"mean", [NN_HasFloat64Kernels]> {
  let summary = "mean over dimensions (aten::mean)";
  let description = [{
    Like `nn.sum`, then divided by the number of summed elements (torch's
    CPU mean is the sum divided by the count, not multiplied by its
    reciprocal).

    ```mlir
    %m = nn.mean %x {dims = array<i64: 0, 1>} : tensor<4x8xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$dims,
                       UnitAttr:$keepdim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

// amax / amin: the largest / smallest element over dims.
class NN_ExtremumOp<string mnemonic, string which, string aten>
    : NN_DiffOp<mnemonic> {
  let summary = "the " # which # " element over dimensions (" # aten # ")";
  let description = [{
    Reduces `input` over `dims` (sorted, distinct, non-empty extents; all
    dimensions for a full reduction, as `torch.max(x)` without a dim) to
    its }] # which # [{ element, NaN if any reduced element is NaN; with
    `keepdim` the reduced dimensions stay with size 1. The gradient is
    torch's: split evenly among the elements equal to the result
    (`grad / count * (x == result)`).
  }];
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$dims,
                       UnitAttr:$keepdim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def NN_AMaxOp : NN_ExtremumOp<"amax", "largest", "aten::amax, aten::max">;
def NN_AMinOp : NN_ExtremumOp<"amin", "smallest", "aten::amin, aten::min">;

def NN_MaxDimOp : NN_DiffOp<"max_dim"> {
  let summary = "the maximum (min: minimum) along one dimension and its index (aten::max.dim, argmax)";
  let description = [{
    Along `dim`, `values` is the largest (with `min`, the smallest) element
    and `indices` (i64) the index of its first occurrence; a NaN wins (its
    first occurrence), as torch's CPU max.dim / argmax. With `keepdim` the
    dim stays with size 1. Only `values` has a gradient, routed to the
    index (torch's value_selecting_reduction_backward).

    ```mlir
    %v, %i = nn.max_dim %x {dim = 1 : i64} : tensor<4x8xf32> -> (tensor<4xf32>, tensor<4xi64>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, I64Attr:$dim, UnitAttr:$keepdim,
                       UnitAttr:$min);
  let results = (outs NN_FloatTensor:$values, NN_I64Tensor:$indices);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` `(` type($values) `,` type($indices) `)`
  }];
}

def NN_Norm2Op : NN_DiffOp<"norm2"> {
  let summary = "Euclidean (p = 2) norm over dimensions (aten::norm, linalg_vector_norm, frobenius_norm)";
  let description = [{
    `sqrt(sum(x^2))` over `dims` (sorted, distinct), the squares summed in
    f64. Its gradient is torch's norm_backward for p = 2:
    `x * (grad / norm)`, 0 where the norm is 0.

    ```mlir
    %n = nn.norm2 %x {dims = array<i64: 1>, keepdim} : tensor<4x8xf32> -> tensor<4x1xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$dims,
                       UnitAttr:$keepdim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def NN_LogSumExpOp : NN_DiffOp<"logsumexp"> {
  let summary = "log of the sum of exponentials over dimensions (aten::logsumexp)";
  let description = [{
    `log(sum(exp(x - m))) + m` over `dims` (sorted, distinct, non-empty
    extents) with `m` the maximum, taken as 0 where it is infinite, as
    torch computes it (the sum in f64). Its gradient is torch's
    `grad * exp(x - result)`.

    ```mlir
    %l = nn.logsumexp %x {dims = array<i64: 1>} : tensor<4x8xf32> -> tensor<4xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$dims,
                       UnitAttr:$keepdim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def NN_CumSumOp : NN_DiffOp<"cumsum"> {
  let summary = "inclusive cumulative sum along one dimension (aten::cumsum)";
  let description = [{
    `result[..., i, ...] = sum of input[..., j, ...] for j <= i` along `dim`
    (with `reverse`, for j >= i), accumulated in f64 as torch's CPU kernel.
    Its gradient is the reverse cumulative sum of the result gradient
    (torch's cumsum_backward).

    ```mlir
    %c = nn.cumsum %x {dim = 1 : i64} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, I64Attr:$dim, UnitAttr:$reverse);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_SumToOp : NN_Op<"sum_to", [NN_HasFloat64Kernels]> {
  let summary = "sum over the dimensions a broadcast expanded";
  let description = [{
    The adjoint of broadcasting (torch's `sum_to_size`): sums `input` down to
    the result shape, which must broadcast to the input shape. Summation
    order is increasing input index, so results are deterministic.

    ```mlir
    %db = nn.sum_to %dy : tensor<16x64xf32> to tensor<64xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_SoftmaxOp : NN_DiffOp<"softmax", [NN_HasFloat64Kernels]> {
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
  let arguments = (ins NN_FloatTensor:$input, I64Attr:$dim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_LogSoftmaxOp : NN_DiffOp<"log_softmax", [NN_HasFloat64Kernels]> {
  let summary = "log-softmax along one dimension (aten::log_softmax)";
  let description = [{
    `(x - max) - log(sum(exp(x - max)))` along `dim`, as torch's CPU kernel
    computes it.

    ```mlir
    %l = nn.log_softmax %x {dim = 1 : i64} : tensor<32x64xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, I64Attr:$dim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Backward ops (built by the VJPs above)
//===----------------------------------------------------------------------===//

def NN_SoftmaxGradOp : NN_GradOp<"softmax_grad", [NN_HasFloat64Kernels, AllTypesMatch<["grad", "output"]>]> {
  let summary = "gradient of softmax from its output";
  let description = "`(grad - sum(grad * y)) * y` along `dim` (torch's `_softmax_backward_data`).";
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$output, I64Attr:$dim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($grad)";
}

def NN_LogSoftmaxGradOp : NN_GradOp<"log_softmax_grad", [NN_HasFloat64Kernels, AllTypesMatch<["grad", "output"]>]> {
  let summary = "gradient of log_softmax from its output";
  let description = "`grad - exp(y) * sum(grad)` along `dim` (torch's `_log_softmax_backward_data`).";
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$output, I64Attr:$dim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($grad)";
}

def NN_MaxDimGradOp : NN_GradOp<"max_dim_grad"> {
  let summary = "gradient of max_dim: the gradient placed at the indices";
  let description = [{
    Zeros of the forward input's shape (`dim_size` along `dim`) except at
    each `indices` position along `dim`, which holds `grad` (torch's
    value_selecting_reduction_backward: zeros scattered with grad).
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_I64Tensor:$indices, I64Attr:$dim,
                       UnitAttr:$keepdim,
                       ConfinedAttr<I64Attr, [IntPositive]>:$dim_size);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $indices attr-dict `:` functional-type(operands, results)
  }];
}

#endif // DPC_NN_REDUCTION_OPS
