//===- NNOptimizerOps.td - nn optimizer updates (in place) ---*- tablegen -*-===//
//
// The Optimizer family (docs/ARCHITECTURE.md, "Where to add an op"); included by
// NNOps.td. Built by the optimizer passes (dpc-sgd, dpc-adam), not imported.
// Shape inference and verifiers live in NNOptimizerOps.cpp, the runtime calls
// in compiler/Conversion/NNToRuntime/LowerOptimizerOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_OPTIMIZER_OPS
#define DPC_NN_OPTIMIZER_OPS

def NN_SGDUpdateOp : NN_Op<"sgd_update", [NN_HasFloat64Kernels, 
    DeclareOpInterfaceMethods<StorageAliasOpInterface>,
    InferTypeOpAdaptor]> {
  let summary = "one torch.optim.SGD step for one parameter";
  let description = [{
    ```
    d = grad + weight_decay * param
    if momentum != 0:
      buf = d                                          (first step)
      buf = momentum * buf + (1 - dampening) * d       (later steps)
      d = nesterov ? d + momentum * buf : buf
    param = param - lr * d
    ```
    The momentum buffer operand and result are present exactly when
    `momentum` is non-zero. Whether a step is the first is known at run time
    (the runtime's step counter). Lowering updates the parameter and the
    buffer in place.

    `group` is the parameter's group (torch.optim's param_groups). When the
    function records its groups (`dpc.param_groups`, set by dpc-sgd), the
    update reads the group's current learning rate from the runtime
    (`dpcrt_learning_rate`) and rounds it to f32 as torch rounds its Python
    float, and `lr` is the group's initial learning rate; otherwise `lr` is
    compiled in.
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
                       Optional<NN_FloatTensor>:$momentum_buffer,
                       NN_FloatAttr:$lr, DefaultValuedAttr<NN_FloatAttr, "0.0">:$momentum,
                       DefaultValuedAttr<NN_FloatAttr, "0.0">:$dampening,
                       DefaultValuedAttr<NN_FloatAttr, "0.0">:$weight_decay,
                       UnitAttr:$nesterov,
                       DefaultValuedAttr<ConfinedAttr<I32Attr, [IntNonNegative]>, "0">:$group);
  let results = (outs NN_FloatTensor:$new_param,
                      Optional<NN_FloatTensor>:$new_momentum_buffer);
  let assemblyFormat = [{
    $param `,` $grad (`,` $momentum_buffer^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_AdamUpdateOp : NN_Op<"adam_update", [NN_HasFloat64Kernels, 
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
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
                       NN_FloatTensor:$exp_avg, NN_FloatTensor:$exp_avg_sq,
                       F64Attr:$lr, F64Attr:$beta1, F64Attr:$beta2,
                       F64Attr:$eps,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       UnitAttr:$decoupled_weight_decay,
                       DefaultValuedAttr<ConfinedAttr<I32Attr, [IntNonNegative]>, "0">:$group);
  let results = (outs NN_FloatTensor:$new_param, NN_FloatTensor:$new_exp_avg,
                      NN_FloatTensor:$new_exp_avg_sq);
  let assemblyFormat = [{
    $param `,` $grad `,` $exp_avg `,` $exp_avg_sq attr-dict `:` type($param)
  }];
  let hasVerifier = 1;
}

def NN_ClipGradNormOp : NN_Op<"clip_grad_norm", [NN_HasFloat64Kernels, 
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
  let arguments = (ins Variadic<NN_FloatTensor>:$grads, F64Attr:$max_norm,
                       DefaultValuedAttr<F64Attr, "2.0">:$norm_type);
  let results = (outs Variadic<NN_FloatTensor>:$clipped);
  let assemblyFormat = "$grads attr-dict `:` type($grads)";
  let hasVerifier = 1;
}

def NN_LossScaleOp : NN_Op<"loss_scale"> {
  let summary = "GradScaler's current loss scale, which seeds the backward pass";
  let description = [{
    A tensor filled with the run-time loss scale of torch.amp.GradScaler
    (the runtime's state: `dpcrt_context::gradScaler`, updated after every
    step and kept in checkpoints). With loss scaling, `dpc-autodiff` seeds
    the backward pass with it instead of 1, as `scaler.scale(loss).backward()`
    does: every gradient is the scaled one until `nn.unscale_grads`.

    ```mlir
    %seed = nn.loss_scale : tensor<f32>
    ```
  }];
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def NN_UnscaleGradsOp : NN_Op<"unscale_grads", [
    DeclareOpInterfaceMethods<StorageAliasOpInterface>,
    InferTypeOpAdaptor]> {
  let summary = "GradScaler.unscale_ of every gradient, and its inf check";
  let description = [{
    torch.amp.GradScaler's `unscale_` (`_amp_foreach_non_finite_check_and_unscale_`)
    over every (averaged) gradient: each element times
    `inv_scale = float(1 / double(scale))`, and the step's `found_inf` set
    when any element is infinite or NaN. With `found_inf` the runtime skips
    every optimizer update of the step (`scaler.step`), and after the step
    it updates the scale (`scaler.update`: times `backoff_factor` after an
    inf, times `growth_factor` after `growth_interval` finite steps in a
    row). The attributes are GradScaler's constructor arguments, which the
    manifest passes to the runtime. Like nn.clip_grad_norm it reads every
    gradient, so it follows the last all-reduce wait and precedes every
    update; the results are the unscaled gradients, in place.

    ```mlir
    %u0, %u1 = nn.unscale_grads %g0, %g1 {init_scale = 65536.0 : f64, growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 2000 : i64} : tensor<64x32xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_FloatTensor>:$grads, F64Attr:$init_scale,
                       F64Attr:$growth_factor, F64Attr:$backoff_factor,
                       I64Attr:$growth_interval);
  let results = (outs Variadic<NN_FloatTensor>:$unscaled);
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
  let arguments = (ins NN_FloatTensor:$grad, F64Attr:$clip_value);
  let results = (outs NN_FloatTensor:$clipped);
  let assemblyFormat = "$grad attr-dict `:` type($grad)";
  let hasVerifier = 1;
}

#endif // DPC_NN_OPTIMIZER_OPS
