//===- NNLinalgOps.td - nn matrix products (GEMM) ----------*- tablegen -*-===//
//
// The Linalg family (docs/ARCHITECTURE.md, "Where to add an op"); included by
// NNOps.td. Shape inference, verifiers and VJPs live in NNLinalgOps.cpp, the
// import in compiler/Import/ImportLinalgOps.cpp, the runtime calls in
// compiler/Conversion/NNToRuntime/LowerLinalgOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_LINALG_OPS
#define DPC_NN_LINALG_OPS

def NN_LinearOp : NN_DiffOp<"linear", [NN_HasFloat64Kernels]> {
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
  let arguments = (ins NN_FloatOrBF16Tensor:$input, NN_FloatOrBF16Tensor:$weight,
                       Optional<NN_FloatTensor>:$bias);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def NN_MatmulOp : NN_DiffOp<"matmul", [NN_HasFloat64Kernels]> {
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
  let arguments = (ins NN_FloatOrBF16Tensor:$lhs, NN_FloatOrBF16Tensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs NN_FloatTensor:$result);
  let extraClassDeclaration = [{
    /// Whether the product is one GEMM: no batch dimensions, or
    /// `[..., M, K] @ [K, N]` (the rows of all batch elements are one
    /// matrix). Otherwise one GEMM per batch element.
    bool isSingleGemm();
  }];
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

#endif // DPC_NN_LINALG_OPS
