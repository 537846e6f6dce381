//===- NNOptimizerOps.td - nn ops for optimizer updates beyond SGD -*- tablegen -*-===//
//
// Included by NNOps.td; shape inference and verifiers live in
// NNOptimizerOps.cpp. Besides the optimizer updates, the group holds the
// view that splits a step's inputs into the micro-batches of gradient
// accumulation (dpc-accumulate).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_OPTIMIZER_OPS
#define DPC_NN_OPTIMIZER_OPS

def NN_AdamUpdateOp : NN_Op<"adam_update", [
    DeclareOpInterfaceMethods<StorageAliasOpInterface>,
    InferTypeOpAdaptor,
    AllTypesMatch<["param", "grad", "exp_avg", "exp_avg_sq"]>]> {
  let summary = "one torch.optim.Adam or AdamW step for one parameter";
  let description = [{
    The update of torch.optim.Adam (torch 1.13, `amsgrad=False`), or of
    torch.optim.AdamW when `decoupled_weight_decay` is set, with `t` the
    number of the step (1 for the first), which only the runtime knows:

    ```
    Adam:  g = grad + weight_decay * param     AdamW: g = grad
                                                      param = param * (1 - lr * weight_decay)
    exp_avg    = beta1 * exp_avg + (1 - beta1) * g
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
    denom      = sqrt(exp_avg_sq) / sqrt(1 - beta2^t) + eps
    param      = param - lr / (1 - beta1^t) * exp_avg / denom
    ```

    The hyper-parameters are f64 like the Python floats torch computes the
    bias corrections with; the kernel rounds them to f32 where torch does.
    The three results are the new parameter, `exp_avg` and `exp_avg_sq`;
    lowering computes them in place in the operands' storage. `group` is the
    parameter's group: when the function records its groups
    (`dpc.param_groups`, set by dpc-adam), the update reads the group's
    current learning rate from the runtime (`dpcrt_learning_rate`, a
    double) and `lr` is the group's initial value; otherwise `lr` is
    compiled in.

    ```mlir
    %p, %m, %v = nn.adam_update %w, %dw, %m0, %v0 {lr = 1.0e-03, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-08} : tensor<64x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       NN_F32Tensor:$exp_avg, NN_F32Tensor:$exp_avg_sq,
                       F64Attr:$lr, F64Attr:$beta1, F64Attr:$beta2,
                       F64Attr:$eps,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       UnitAttr:$decoupled_weight_decay,
                       DefaultValuedAttr<ConfinedAttr<I32Attr, [IntNonNegative]>, "0">:$group);
  let results = (outs NN_F32Tensor:$new_param, NN_F32Tensor:$new_exp_avg,
                      NN_F32Tensor:$new_exp_avg_sq);
  let assemblyFormat = [{
    $param `,` $grad `,` $exp_avg `,` $exp_avg_sq attr-dict `:` type($param)
  }];
  let hasVerifier = 1;
}

def NN_ClipGradNormOp : NN_Op<"clip_grad_norm", [
    DeclareOpInterfaceMethods<StorageAliasOpInterface>,
    InferTypeOpAdaptor]> {
  let summary = "torch.nn.utils.clip_grad_norm_ over all gradients";
  let description = [{
    Scales every gradient by one factor so that their global norm is at
    most `max_norm`, as torch 1.13's clip_grad_norm_:

    ```
    total_norm = norm([norm(g, p) for g in grads], p)     (p = norm_type;
                 p = inf: max over all |g|)
    clip_coef  = min(max_norm / (total_norm + 1e-6), 1.0)  (float32)
    g          = g * clip_coef                             (each gradient)
    ```

    It needs every (averaged) gradient, so it follows the last all-reduce
    wait and precedes every optimizer update. The results are the clipped
    gradients, computed in place in the operands' storage.

    ```mlir
    %c0, %c1 = nn.clip_grad_norm %g0, %g1 {max_norm = 1.0 : f64, norm_type = 2.0 : f64} : tensor<64x32xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_F32Tensor>:$grads, F64Attr:$max_norm,
                       DefaultValuedAttr<F64Attr, "2.0">:$norm_type);
  let results = (outs Variadic<NN_F32Tensor>:$clipped);
  let assemblyFormat = "$grads attr-dict `:` type($grads)";
  let hasVerifier = 1;
}

def NN_ClipGradValueOp : NN_Op<"clip_grad_value", [
    DeclareOpInterfaceMethods<StorageAliasOpInterface>,
    InferTypeOpAdaptor]> {
  let summary = "torch.nn.utils.clip_grad_value_ for one gradient";
  let description = [{
    `clamp(grad, -clip_value, clip_value)` element by element, in place
    (torch rounds the Python float bounds to float32). Each gradient is
    clipped on its own, so the op can follow its bucket's wait.

    ```mlir
    %c = nn.clip_grad_value %g {clip_value = 0.5 : f64} : tensor<64x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, F64Attr:$clip_value);
  let results = (outs NN_F32Tensor:$clipped);
  let assemblyFormat = "$grad attr-dict `:` type($grad)";
  let hasVerifier = 1;
}

def NN_MicroBatchOp : NN_Op<"micro_batch", [
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
  let arguments = (ins AnyTypeOf<[NN_F32Tensor, NN_I64Tensor]>:$input,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$index,
                       ConfinedAttr<I64Attr, [IntPositive]>:$count);
  let results = (outs AnyTypeOf<[NN_F32Tensor, NN_I64Tensor]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
}

#endif // DPC_NN_OPTIMIZER_OPS
