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

def NN_SGDUpdateOp : NN_Op<"sgd_update", [
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
  }];
  let arguments = (ins NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       Optional<NN_F32Tensor>:$momentum_buffer,
                       F32Attr:$lr, DefaultValuedAttr<F32Attr, "0.0">:$momentum,
                       DefaultValuedAttr<F32Attr, "0.0">:$dampening,
                       DefaultValuedAttr<F32Attr, "0.0">:$weight_decay,
                       UnitAttr:$nesterov);
  let results = (outs NN_F32Tensor:$new_param,
                      Optional<NN_F32Tensor>:$new_momentum_buffer);
  let assemblyFormat = [{
    $param `,` $grad (`,` $momentum_buffer^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

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
    lowering computes them in place in the operands' storage.

    ```mlir
    %p, %m, %v = nn.adam_update %w, %dw, %m0, %v0 {lr = 1.0e-03, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-08} : tensor<64x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       NN_F32Tensor:$exp_avg, NN_F32Tensor:$exp_avg_sq,
                       F64Attr:$lr, F64Attr:$beta1, F64Attr:$beta2,
                       F64Attr:$eps,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       UnitAttr:$decoupled_weight_decay);
  let results = (outs NN_F32Tensor:$new_param, NN_F32Tensor:$new_exp_avg,
                      NN_F32Tensor:$new_exp_avg_sq);
  let assemblyFormat = [{
    $param `,` $grad `,` $exp_avg `,` $exp_avg_sq attr-dict `:` type($param)
  }];
  let hasVerifier = 1;
}

#endif // DPC_NN_OPTIMIZER_OPS
