//===- NNConvPoolOps.td - nn convolution and pooling (NCHW) ---*- tablegen -*-===//
//
// The ConvPool family (docs/ARCHITECTURE.md, "Where to add an op"); included by
// NNOps.td. Shape inference, verifiers and VJPs live in NNConvPoolOps.cpp, the
// import in compiler/Import/ImportConvPoolOps.cpp, the runtime calls in
// compiler/Conversion/NNToRuntime/LowerConvPoolOps.cpp.
//
// Layout: activations are NCHW (batch, channels, height, width), row-major,
// as in PyTorch; convolution weights are [O, C / groups, KH, KW]. Window
// geometry (kernel_size, stride, padding, dilation) is a pair of integers,
// (height, width), as an `array<i64: h, w>` attribute.
//
// Backward ops whose result shape cannot be recovered from their operands
// (the input of a strided convolution or pooling, a kernel size) carry their
// result type explicitly and verify it instead of inferring it.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_CONV_POOL_OPS
#define DPC_NN_CONV_POOL_OPS

// A pair (height, width) of window sizes, strides, paddings or dilations.
def NN_PairAttr : ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>;

// Backward ops with an explicit (verified) result type.
class NN_ExplicitGradOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, traits> {
  let hasVerifier = 1;
}

def NN_Conv2dOp : NN_DiffOp<"conv2d"> {
  let summary = "2-d convolution (aten::conv2d, aten::_convolution, nn.Conv2d)";
  let description = [{
    Cross-correlation of `input` `[N, C, H, W]` with `weight`
    `[O, C / groups, KH, KW]`, plus the optional `bias` `[O]`, with PyTorch's
    zero padding, stride, dilation and groups. The result is
    `[N, O, OH, OW]` with

    ```
    OH = (H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) / stride[0] + 1
    ```

    (and likewise OW), which must be at least 1. `C` and `O` must be
    multiples of `groups`; output channels `[g * O / groups, (g + 1) * O /
    groups)` see input channels `[g * C / groups, (g + 1) * C / groups)`.

    Lowered to im2col + one GEMM per sample and group (a 1x1 convolution
    with stride 1 and no padding uses the input directly), then the bias.

    ```mlir
    %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>,
                              dilation = array<i64: 1, 1>, groups = 1 : i64}
        : (tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = (ins NN_FloatOrBF16Tensor:$input,
                       NN_FloatOrBF16Tensor:$weight,
                       Optional<NN_FloatTensor>:$bias,
                       NN_PairAttr:$stride, NN_PairAttr:$padding,
                       NN_PairAttr:$dilation,
                       DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def NN_MaxPool2dOp : NN_DiffOp<"max_pool2d"> {
  let summary = "2-d max pooling (aten::max_pool2d, nn.MaxPool2d)";
  let description = [{
    The maximum of each `kernel_size` window of `input` `[N, C, H, W]`,
    windows `stride` apart, `dilation` between their elements, over the
    input padded by `padding` on each side with -infinity. The output size
    is PyTorch's:

    ```
    OH = floor_or_ceil((H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) / stride[0]) + 1
    ```

    rounded up with `ceil_mode` (where a window must then start inside the
    input or its left padding). A NaN in a window wins, as in PyTorch.
    The padding may be at most half the kernel size.

    ```mlir
    %y = nn.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>,
                          padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
        : tensor<8x16x32x32xf32> -> tensor<8x16x16x16xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_PairAttr:$kernel_size,
                       NN_PairAttr:$stride, NN_PairAttr:$padding,
                       NN_PairAttr:$dilation, UnitAttr:$ceil_mode);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def NN_AvgPool2dOp : NN_DiffOp<"avg_pool2d"> {
  let summary = "2-d average pooling (aten::avg_pool2d, nn.AvgPool2d)";
  let description = [{
    The mean of each `kernel_size` window of `input` `[N, C, H, W]`, windows
    `stride` apart, over the input zero-padded by `padding`. The output size
    is max_pool2d's without dilation. The divisor is `divisor_override` when
    given, else the window's size including the padding it covers
    (`count_include_pad`, PyTorch's default) or excluding it.
    In `ceil_mode` a window is clipped at the end of the padded input.

    ```mlir
    %y = nn.avg_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>,
                          padding = array<i64: 0, 0>, count_include_pad}
        : tensor<8x16x32x32xf32> -> tensor<8x16x16x16xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_PairAttr:$kernel_size,
                       NN_PairAttr:$stride, NN_PairAttr:$padding,
                       UnitAttr:$ceil_mode, UnitAttr:$count_include_pad,
                       OptionalAttr<I64Attr>:$divisor_override);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def NN_AdaptiveAvgPool2dOp : NN_DiffOp<"adaptive_avg_pool2d"> {
  let summary = "2-d adaptive average pooling (aten::adaptive_avg_pool2d, nn.AdaptiveAvgPool2d)";
  let description = [{
    Averages `input` `[N, C, H, W]` down to `[N, C, OH, OW]` with
    `output_size = (OH, OW)`: output row i averages input rows
    `[floor(i * H / OH), ceil((i + 1) * H / OH))`, and likewise for columns,
    as PyTorch does (windows may overlap when the sizes do not divide). An
    output of 1x1 is the mean over H and W, computed like PyTorch's
    `mean(dim=(-1, -2))`.

    ```mlir
    %y = nn.adaptive_avg_pool2d %x {output_size = array<i64: 1, 1>}
        : tensor<8x512x4x4xf32> -> tensor<8x512x1x1xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_PairAttr:$output_size);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Backward ops (built by the VJPs above)
//===----------------------------------------------------------------------===//

def NN_Conv2dInputGradOp : NN_ExplicitGradOp<"conv2d_input_grad",
    [DeclareOpInterfaceMethods<VJPOpInterface>]> {
  let summary = "gradient of conv2d with respect to its input; also the "
                "transposed convolution (nn.ConvTranspose2d)";
  let description = [{
    `grad` is the gradient of a `conv2d` result `[N, O, OH, OW]`, `weight`
    its weight; the result is the gradient of its input, whose type is given
    explicitly (a strided convolution maps several input sizes to one output
    size: ConvTranspose2d's output_padding picks one) and must convolve to the
    shape of `grad` with the same attributes. Lowered to `W^T @ grad` per
    sample and group, then col2im.

    The same map is the forward of a transposed convolution
    (aten::conv_transpose2d: input `grad`, weight `[C_in, C_out / groups, KH,
    KW]`), so the op is differentiable: its VJP is a `conv2d` of the result's
    gradient with `weight` (for `grad`) and a `conv2d_weight_grad` (for
    `weight`).
  }];
  let arguments = (ins NN_FloatOrBF16Tensor:$grad, NN_FloatOrBF16Tensor:$weight,
                       NN_PairAttr:$stride, NN_PairAttr:$padding,
                       NN_PairAttr:$dilation,
                       DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def NN_Conv2dWeightGradOp : NN_ExplicitGradOp<"conv2d_weight_grad"> {
  let summary = "gradient of conv2d with respect to its weight";
  let description = [{
    `grad` is the gradient of a `conv2d` result `[N, O, OH, OW]`, `input`
    its input; the result is the gradient of its weight
    `[O, C / groups, KH, KW]` (given explicitly: the kernel size is not
    implied by the operands), summed over the batch. Lowered to
    `grad @ im2col(input)^T` per sample and group, accumulated.
  }];
  let arguments = (ins NN_FloatOrBF16Tensor:$grad, NN_FloatOrBF16Tensor:$input,
                       NN_PairAttr:$stride, NN_PairAttr:$padding,
                       NN_PairAttr:$dilation,
                       DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $input attr-dict `:` functional-type(operands, results)
  }];
}

def NN_MaxPool2dGradOp : NN_GradOp<"max_pool2d_grad"> {
  let summary = "gradient of max_pool2d with respect to its input";
  let description = [{
    Routes each element of `grad` (the gradient of a `max_pool2d` result) to
    the position of its window's maximum in `input`, the forward's input:
    the first maximum in row-major window order, as PyTorch's argmax
    indices. Gradients of overlapping windows add up. The argmax is
    recomputed from `input` rather than saved, so the forward keeps no
    index tensor. The result has the type of `input`.
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$input,
                       NN_PairAttr:$kernel_size, NN_PairAttr:$stride,
                       NN_PairAttr:$padding, NN_PairAttr:$dilation,
                       UnitAttr:$ceil_mode);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $input attr-dict `:` functional-type(operands, results)
  }];
}

def NN_AvgPool2dGradOp : NN_ExplicitGradOp<"avg_pool2d_grad"> {
  let summary = "gradient of avg_pool2d with respect to its input";
  let description = [{
    Spreads each element of `grad` (the gradient of an `avg_pool2d` result),
    divided by its window's divisor, over the window. The result type is the
    forward input's, given explicitly; pooling it with the same attributes
    must give the shape of `grad`.
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_PairAttr:$kernel_size,
                       NN_PairAttr:$stride, NN_PairAttr:$padding,
                       UnitAttr:$ceil_mode, UnitAttr:$count_include_pad,
                       OptionalAttr<I64Attr>:$divisor_override);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
}

def NN_AdaptiveAvgPool2dGradOp : NN_ExplicitGradOp<"adaptive_avg_pool2d_grad"> {
  let summary = "gradient of adaptive_avg_pool2d with respect to its input";
  let description = [{
    Spreads each element of `grad` `[N, C, OH, OW]`, divided by its window's
    size, over its window of the result `[N, C, H, W]` (the forward input's
    type, given explicitly).
  }];
  let arguments = (ins NN_FloatTensor:$grad);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
}

#endif // DPC_NN_CONV_POOL_OPS
