//===- DPOps.td - The dp dialect: explicit data parallelism -*- tablegen -*-===//
//
// Collectives that make data parallelism explicit in the training step. The
// asynchronous form is a start/wait pair joined by a token, so that where the
// communication overlaps the computation is a scheduling decision the
// compiler owns (like c10d_functional.all_reduce + wait_tensor, or XLA's
// all-reduce-start/done).
//
// Single-process data parallelism (nn.DataParallel, --mode dp) uses the
// adjoint pairs of torch/nn/parallel/_functions.py: scatter / gather and
// replicate (Broadcast) / reduce_add (ReduceAddCoalesced).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_DP_OPS
#define DPC_DP_OPS

include "dialects/NN/IR/NNInterfaces.td"
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

    Data parallelism over the replicas of one process (nn.DataParallel):
    `dp.scatter` / `dp.gather` move batch chunks to the replicas and their
    outputs back to device 0, `dp.replicate` / `dp.reduce_add` copy the
    parameters to every replica and sum their gradients on device 0. Ops
    that run on replica `r` carry the discardable attribute
    `dp.replica = r`; ops without it run on device 0. `dpc-dp-phases`
    groups the step into stages, recorded as `dp.stage = k`: in an odd
    stage the replicas run concurrently, an even stage runs on device 0.
  }];
  let hasOperationAttrVerify = 1;
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

// Gradients: float32, or float64 in a model.double() model (one bucket holds
// one of the two).
def DP_FloatTensor : StaticShapeTensorOf<[F32, F64]>;

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
  let arguments = (ins DP_FloatTensor:$input);
  let results = (outs DP_FloatTensor:$result);
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

    `compress` (f16 or bf16) all-reduces the bucket in that type, as DDP's
    fp16_compress_hook and bf16_compress_hook do: each value rounded to it
    and divided by the world size there, summed in it over the ranks and
    widened back to f32 (`dpc --grad-comm`). Without it the bucket is
    all-reduced in f32.

    ```mlir
    %t = dp.all_reduce_start %gw, %gb {bucket = 0 : i64} : tensor<10x64xf32>, tensor<10xf32>
    %u = dp.all_reduce_start %gw, %gb {bucket = 0 : i64, compress = bf16} : tensor<10x64xf32>, tensor<10xf32>
    ```
  }];
  let arguments = (ins Variadic<DP_FloatTensor>:$inputs, I64Attr:$bucket,
                       OptionalAttr<TypeAttr>:$compress);
  let results = (outs DP_TokenType:$token);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs)";
  let hasVerifier = 1;
}

def DP_WaitOp : Op<DP_Dialect, "wait", [
    DeclareOpInterfaceMethods<StorageAliasOpInterface>,
    MemoryEffects<[MemWrite]>]> {
  let summary = "wait for an asynchronous all-reduce";
  let description = [{
    Blocks until the collective behind `token` has finished; the results are
    the averaged values of the start op's operands, in order.

    ```mlir
    %gw2, %gb2 = dp.wait %t : tensor<10x64xf32>, tensor<10xf32>
    ```
  }];
  let arguments = (ins DP_TokenType:$token);
  let results = (outs Variadic<DP_FloatTensor>:$results);
  let assemblyFormat = "$token attr-dict `:` type($results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    AllReduceStartOp getStartOp();
  }];
}

//===----------------------------------------------------------------------===//
// Single-process data parallelism (nn.DataParallel)
//===----------------------------------------------------------------------===//

def DP_AnyTensor : StaticShapeTensorOf<[F32, F64, I64]>;

def DP_ScatterOp : Op<DP_Dialect, "scatter", [
    DeclareOpInterfaceMethods<StorageAliasOpInterface, ["isStorageView"]>,
    Pure]> {
  let summary = "one replica's chunk of a batch (Scatter)";
  let description = [{
    Rows `[offset, offset + n)` of `input` along dimension 0, where `n` is
    the result's dimension 0: the chunk that nn.DataParallel's Scatter sends
    to one replica (torch.chunk's sizes, see `dp::getChunkSizes`). The other
    dimensions are unchanged. On the CPU backend the chunk is a view of the
    batch, no data moves. `dpc-dp-replicate` scatters the step's inputs;
    the VJP of `dp.gather` scatters the output gradient. The operand is not
    differentiated (inputs need no gradient): the op has no VJP.

    ```mlir
    %x1 = dp.scatter %x {offset = 4 : i64, dp.replica = 1 : i64} : tensor<10x32xf32> to tensor<4x32xf32>
    ```
  }];
  let arguments = (ins DP_AnyTensor:$input,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$offset);
  let results = (outs DP_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def DP_GatherOp : Op<DP_Dialect, "gather",
    [Pure, DeclareOpInterfaceMethods<VJPOpInterface>]> {
  let summary = "concatenate the replicas' outputs on device 0 (Gather)";
  let description = [{
    Concatenates the operands along dimension 0, in replica order, into one
    tensor on device 0: nn.DataParallel's gather of the replicas' outputs.
    All operands have the same element type and the same dimensions after
    the first. The VJP is Gather's adjoint: the result gradient scattered
    back, one `dp.scatter` per operand, tagged with that operand's replica.

    ```mlir
    %y = dp.gather %y0, %y1, %y2 : (tensor<4x10xf32>, tensor<4x10xf32>, tensor<2x10xf32>) -> tensor<10x10xf32>
    ```
  }];
  let arguments = (ins Variadic<DP_AnyTensor>:$inputs);
  let results = (outs DP_AnyTensor:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type($inputs, $result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def DP_ReplicateOp : Op<DP_Dialect, "replicate",
    [DeclareOpInterfaceMethods<StorageAliasOpInterface, ["isStorageView"]>,
     Pure, DeclareOpInterfaceMethods<VJPOpInterface>]> {
  let summary = "one copy of a parameter or buffer per replica (Broadcast)";
  let description = [{
    Result `r` is replica `r`'s copy of `input` (nn.parallel.replicate, which
    broadcasts the module's parameters and buffers from device 0). The op
    itself runs on device 0; on the CPU backend every copy is a view of the
    input, except with `copies`: then results 1, 2, ... are copies with
    storage of their own, for tensors the replicas update in place
    (BatchNorm's running statistics). Replica 0's copy is the input itself
    either way, so replica 0's updates land in the module's buffers and the
    others' are discarded, as with nn.DataParallel. The VJP is Broadcast's
    adjoint, ReduceAddCoalesced: the copies' gradients summed on device 0 in
    replica order (`dp.reduce_add`).

    ```mlir
    %w0, %w1 = dp.replicate %w : tensor<64x32xf32> -> tensor<64x32xf32>, tensor<64x32xf32>
    %m0, %m1 = dp.replicate %running_mean {copies} : tensor<16xf32> -> tensor<16xf32>, tensor<16xf32>
    ```
  }];
  let arguments = (ins DP_AnyTensor:$input, UnitAttr:$copies);
  let results = (outs Variadic<DP_AnyTensor>:$results);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def DP_ReduceAddOp : Op<DP_Dialect, "reduce_add",
    [Pure, SameOperandsAndResultType,
     DeclareOpInterfaceMethods<VJPOpInterface>]> {
  let summary = "sum the replicas' gradients on device 0 (ReduceAddCoalesced)";
  let description = [{
    The sum of the operands in replica order, `((g0 + g1) + g2) + ...`, as
    torch.cuda.comm.reduce_add adds them, computed on device 0. The VJP is
    `dp.replicate` of the result gradient (ReduceAddCoalesced's adjoint is
    Broadcast).

    ```mlir
    %g = dp.reduce_add %g0, %g1, %g2 : tensor<64x32xf32>
    ```
  }];
  let arguments = (ins Variadic<DP_FloatTensor>:$inputs);
  let results = (outs DP_FloatTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // DPC_DP_OPS
