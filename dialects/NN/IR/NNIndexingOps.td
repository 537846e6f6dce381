//===- NNIndexingOps.td - nn ops indexed by tensors ---*- tablegen -*-===//
//
// The Indexing family (docs/ARCHITECTURE.md, "Where to add an op"); included by
// NNOps.td. Shape inference, verifiers and VJPs live in NNIndexingOps.cpp, the
// import in compiler/Import/ImportIndexingOps.cpp, the runtime calls in
// compiler/Conversion/NNToRuntime/LowerIndexingOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_INDEXING_OPS
#define DPC_NN_INDEXING_OPS

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
  let arguments = (ins NN_FloatTensor:$weight, NN_I64Tensor:$indices,
                       OptionalAttr<I64Attr>:$padding_idx);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $weight `,` $indices attr-dict `:` functional-type(operands, results)
  }];
}

def NN_GatherOp : NN_DiffOp<"gather"> {
  let summary = "elements picked along one dimension by an index tensor (aten::gather)";
  let description = [{
    `input` and the i64 `index` have the same rank and the same sizes in
    every dimension but `dim` (the importer slices a larger input to the
    index first, which is what torch reads of it); the result has the
    index's shape, with `result[p] = input[p with p[dim] = index[p]]`. An
    index outside `[0, input.size(dim))` is a run-time error of the step
    (torch's gather refuses negative indices too).

    The gradient with respect to `input` is `nn.scatter_add` of the result
    gradient into zeros (torch's gather backward); the index gets none.

    ```mlir
    %g = nn.gather %x, %i {dim = 1 : i64} : (tensor<4x10xf32>, tensor<4x1xi64>) -> tensor<4x1xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_I64Tensor:$index, I64Attr:$dim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $index attr-dict `:` functional-type(operands, results)
  }];
}

def NN_ScatterAddOp : NN_DiffOp<"scatter_add"> {
  let summary = "input with src added at the positions an index names along one dimension (aten::scatter_add)";
  let description = [{
    `index` (i64) and `src` have the same shape, which equals `input`'s in
    every dimension but `dim`. The result is `input` with
    `result[p with p[dim] = index[p]] += src[p]` for every position `p` of
    the index, added in increasing `p[dim]` for each element (torch's CPU
    order), so the result is deterministic. An index outside
    `[0, input.size(dim))` is a run-time error of the step.

    The gradient with respect to `input` is the result gradient, with
    respect to `src` its `nn.gather` by the index; the index gets none.

    ```mlir
    %s = nn.scatter_add %x, %i, %src {dim = 0 : i64} : (tensor<5x3xf32>, tensor<8x3xi64>, tensor<8x3xf32>) -> tensor<5x3xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_I64Tensor:$index,
                       NN_FloatTensor:$src, I64Attr:$dim);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $index `,` $src attr-dict `:` functional-type(operands, results)
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
  let arguments = (ins NN_FloatTensor:$grad, NN_I64Tensor:$indices,
                       OptionalAttr<I64Attr>:$padding_idx);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // DPC_NN_INDEXING_OPS
