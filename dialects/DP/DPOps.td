//===- DPOps.td - The dp dialect: explicit data parallelism -*- tablegen -*-===//
//
// Collectives that make data parallelism explicit in the training step. The
// asynchronous form is a start/wait pair joined by a token, so that where the
// communication overlaps the computation is a scheduling decision the
// compiler owns (like c10d_functional.all_reduce + wait_tensor, or XLA's
// all-reduce-start/done).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_DP_OPS
#define DPC_DP_OPS

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def DP_Dialect : Dialect {
  let name = "dp";
  let cppNamespace = "::dpc::dp";
  let summary = "Data-parallel collectives";
  let description = [{
    Gradient all-reduce over the ranks of a data-parallel job, synchronous
    (`dp.all_reduce`, one per gradient, as inserted by `dpc-ddp`) and
    bucketed asynchronous (`dp.all_reduce_start` / `dp.wait`, as formed by
    `dpc-ddp-buckets`).
  }];
  let useDefaultTypePrinterParser = 1;
  let usePropertiesForAttributes = 0;
}

def DP_TokenType : TypeDef<DP_Dialect, "Token"> {
  let mnemonic = "token";
  let summary = "an in-flight collective";
  let description = [{
    Produced by an asynchronous collective and consumed by exactly one
    `dp.wait`; the collective's buffers must not be touched in between.
  }];
}

def DP_F32Tensor : StaticShapeTensorOf<[F32]>;

def DP_AllReduceOp : Op<DP_Dialect, "all_reduce",
    [SameOperandsAndResultType, MemoryEffects<[MemWrite]>]> {
  let summary = "average a tensor over all ranks (synchronous)";
  let description = [{
    The mean of `input` over the ranks of the job, as DDP averages gradients
    (each rank's value divided by the world size, then summed).

    ```mlir
    %g = dp.all_reduce %grad : tensor<64x32xf32>
    ```
  }];
  let arguments = (ins DP_F32Tensor:$input);
  let results = (outs DP_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def DP_AllReduceStartOp : Op<DP_Dialect, "all_reduce_start",
    [MemoryEffects<[MemWrite]>]> {
  let summary = "start averaging a bucket of tensors over all ranks";
  let description = [{
    Starts the mean over ranks of every operand, as one collective on one
    contiguous bucket buffer, and returns a token. The operands are donated:
    nothing may read them after this op; the averaged values are the results
    of the `dp.wait` that consumes the token. `bucket` is the bucket's index
    in the order buckets become ready (DDP's bucket order).

    ```mlir
    %t = dp.all_reduce_start %gw, %gb {bucket = 0 : i64} : tensor<10x64xf32>, tensor<10xf32>
    ```
  }];
  let arguments = (ins Variadic<DP_F32Tensor>:$inputs, I64Attr:$bucket);
  let results = (outs DP_TokenType:$token);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs)";
  let hasVerifier = 1;
}

def DP_WaitOp : Op<DP_Dialect, "wait", [MemoryEffects<[MemWrite]>]> {
  let summary = "wait for an asynchronous all-reduce";
  let description = [{
    Blocks until the collective behind `token` has finished; the results are
    the averaged values of the start op's operands, in order.

    ```mlir
    %gw2, %gb2 = dp.wait %t : tensor<10x64xf32>, tensor<10xf32>
    ```
  }];
  let arguments = (ins DP_TokenType:$token);
  let results = (outs Variadic<DP_F32Tensor>:$results);
  let assemblyFormat = "$token attr-dict `:` type($results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    AllReduceStartOp getStartOp();
  }];
}

#endif // DPC_DP_OPS
