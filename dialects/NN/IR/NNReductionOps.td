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

//===----------------------------------------------------------------------===//
// Backward ops (built by the VJPs above)
//===----------------------------------------------------------------------===//

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

#endif // DPC_NN_REDUCTION_OPS
