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
  let arguments = (ins NN_F32Tensor:$weight, NN_I64Tensor:$indices,
                       OptionalAttr<I64Attr>:$padding_idx);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $weight `,` $indices attr-dict `:` functional-type(operands, results)
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

#endif // DPC_NN_INDEXING_OPS
