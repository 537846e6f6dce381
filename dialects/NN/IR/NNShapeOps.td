//===- NNShapeOps.td - nn shape ops: views, copies, constants ---*- tablegen -*-===//
//
// The Shape family (docs/ARCHITECTURE.md, "Where to add an op"); included by
// NNOps.td. Shape inference, verifiers and VJPs live in NNShapeOps.cpp, the
// import in compiler/Import/ImportShapeOps.cpp, the runtime calls in
// compiler/Conversion/NNToRuntime/LowerShapeOps.cpp.
//
// Only `nn.reshape`, `nn.detach` and `nn.micro_batch` alias their operand
// (views); the
// other shape ops (`nn.permute`, `nn.slice`, ...) compute a fresh tensor.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_SHAPE_OPS
#define DPC_NN_SHAPE_OPS

def NN_ConstantOp : NN_Op<"constant", [NN_HasFloat64Kernels, InferTypeOpAdaptor]> {
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

def NN_ReshapeOp : NN_Op<"reshape", [NN_HasFloat64Kernels, 
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

def NN_TransposeOp : NN_DiffOp<"transpose", [NN_HasFloat64Kernels]> {
  let summary = "transpose of a 2-d tensor (aten::t, aten::transpose(0, 1))";
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def NN_PermuteOp : NN_DiffOp<"permute", [NN_HasFloat64Kernels]> {
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
    [NN_HasFloat64Kernels, DeclareOpInterfaceMethods<VJPOpInterface>]> {
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

def NN_SliceOp : NN_DiffOp<"slice", [NN_HasFloat64Kernels]> {
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

def NN_SplitOp : NN_DiffOp<"split", [NN_HasFloat64Kernels]> {
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

def NN_ConcatOp : NN_DiffOp<"concat", [NN_HasFloat64Kernels]> {
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

def NN_CopyOp : NN_Op<"copy", [NN_HasFloat64Kernels, InferTypeOpAdaptor]> {
  let summary = "a fresh copy of a tensor";
  let description = [{
    Gives a value its own storage. The bucketing pass copies a gradient into
    its bucket when the gradient value has other uses that must not observe
    the in-place all-reduce.
  }];
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_DetachOp : NN_Op<"detach", [NN_HasFloat64Kernels, 
    DeclareOpInterfaceMethods<StorageAliasOpInterface, ["isStorageView"]>,
    SameOperandsAndResultType]> {
  let summary = "the same tensor, through which no gradient flows";
  let description = [{
    `x.detach()` (also `x.data`), and every float result of an op the model
    computes under `with torch.no_grad():`: the value is its operand's, but
    dpc-autodiff treats it as independent of the parameters, as PyTorch
    records no graph for it. The result is a view (no data moves).

    ```mlir
    %d = nn.detach %h : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_AnyTensor:$input);
  let results = (outs NN_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_MicroBatchOp : NN_Op<"micro_batch", [NN_HasFloat64Kernels, 
    DeclareOpInterfaceMethods<StorageAliasOpInterface, ["isStorageView"]>,
    InferTypeOpAdaptor]> {
  let summary = "micro-batch `index` of `count` along dimension 0 (a view)";
  let description = [{
    Splits a tensor whose leading dimension holds `count` micro-batches back
    to back into its `index`-th one: rows `[index * B, (index + 1) * B)`
    with `B = dim0 / count`. The result is a view: lowering points it into
    the operand's storage, no data moves. dpc-accumulate uses it to give
    each of the K unrolled forward/backward passes of a step its slice of
    the inputs and labels.

    ```mlir
    %x1 = nn.micro_batch %x {index = 1, count = 4} : tensor<64x32xf32> to tensor<16x32xf32>
    ```
  }];
  let arguments = (ins AnyTypeOf<[NN_FloatTensor, NN_I64Tensor]>:$input,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$index,
                       ConfinedAttr<I64Attr, [IntPositive]>:$count);
  let results = (outs AnyTypeOf<[NN_FloatTensor, NN_I64Tensor]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
}

//===----------------------------------------------------------------------===//
// Backward ops (built by the VJPs above)
//===----------------------------------------------------------------------===//

def NN_SliceGradOp : NN_Op<"slice_grad", [NN_HasFloat64Kernels]> {
  let summary = "gradient of slice: the gradient placed into zeros";
  let description = [{
    A tensor of the stated result type (the sliced operand's) that is zero
    except at the positions `nn.slice` with the same attributes reads, which
    hold `grad`.
  }];
  let arguments = (ins NN_FloatTensor:$grad, I64Attr:$dim, I64Attr:$start,
                       I64Attr:$end, DefaultValuedAttr<I64Attr, "1">:$step);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `to` type($result)";
  let hasVerifier = 1;
}

#endif // DPC_NN_SHAPE_OPS
