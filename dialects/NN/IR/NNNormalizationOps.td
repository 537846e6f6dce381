//===- NNNormalizationOps.td - nn batch and layer normalization ---*- tablegen -*-===//
//
// The Normalization family (docs/ARCHITECTURE.md, "Where to add an op"); included by
// NNOps.td. Shape inference, verifiers and VJPs live in NNNormalizationOps.cpp, the
// import in compiler/Import/ImportNormalizationOps.cpp, the runtime calls in
// compiler/Conversion/NNToRuntime/LowerNormalizationOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_NORMALIZATION_OPS
#define DPC_NN_NORMALIZATION_OPS

def NN_BatchNormOp : NN_DiffOp<"batch_norm", [
    DeclareOpInterfaceMethods<StorageAliasOpInterface>,
    AllTypesMatch<["weight", "bias", "running_mean", "running_var"]>]> {
  let summary = "batch normalization in training mode (aten::batch_norm, nn.BatchNorm*d)";
  let description = [{
    `input` is `[N, C, *]` (BatchNorm1d, 2d and 3d alike); `weight`, `bias`,
    `running_mean` and `running_var` are `[C]`. With the statistics of this
    batch, per channel c over the `n = N * prod(*)` elements,

    ```
    mean[c]   = sum(x) / n                      (summed in double)
    var_sum   = sum((x - mean)^2)               (summed in double)
    invstd[c] = 1 / sqrt(var_sum / n + eps)
    result    = x * (invstd * weight) + (bias - mean * invstd * weight)
    new_running_mean = momentum * mean + (1 - momentum) * running_mean
    new_running_var  = momentum * var_sum / (n - 1) + (1 - momentum) * running_var
    ```

    i.e. PyTorch's training-mode `batch_norm`: normalization by the biased
    batch variance, running variance updated with the unbiased one. `n`
    must be at least 2. `mean` and `invstd` are the saved statistics that
    `nn.batch_norm_grad` needs. The arithmetic follows PyTorch's CPU kernel
    operation by operation (the same roundings and fused multiply-adds).

    Lowering writes `new_running_mean` and `new_running_var` in place into
    the storage of `running_mean` and `running_var`, so nothing may read
    those operands after this op. A model without running statistics
    (`track_running_stats=False`) or without affine parameters
    (`affine=False`) passes throwaway running statistics and a weight of
    ones and a bias of zeros.

    ```mlir
    %y, %mean, %invstd, %rm, %rv = nn.batch_norm %x, %w, %b, %running_mean, %running_var
        {momentum = 1.000000e-01 : f64, eps = 1.000000e-05 : f64}
        : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
        -> (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$weight,
                       NN_FloatTensor:$bias, NN_FloatTensor:$running_mean,
                       NN_FloatTensor:$running_var,
                       F64Attr:$momentum, F64Attr:$eps);
  let results = (outs NN_FloatTensor:$result, NN_FloatTensor:$mean,
                      NN_FloatTensor:$invstd, NN_FloatTensor:$new_running_mean,
                      NN_FloatTensor:$new_running_var);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $running_mean `,` $running_var attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_IncrementOp : NN_Op<"increment", [
    DeclareOpInterfaceMethods<StorageAliasOpInterface>,
    InferTypeOpAdaptor]> {
  let summary = "adds a constant to an integer tensor (num_batches_tracked += 1)";
  let description = [{
    `result = input + amount` on an i64 tensor: BatchNorm's
    `num_batches_tracked.add_(1)`, functionalized by the importer. Lowering
    updates `input` in place, so nothing may read it after this op.

    ```mlir
    %n1 = nn.increment %n {amount = 1 : i64} : tensor<i64>
    ```
  }];
  let arguments = (ins NN_I64Tensor:$input,
                       DefaultValuedAttr<I64Attr, "1">:$amount);
  let results = (outs NN_I64Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_GroupNormOp : NN_DiffOp<"group_norm", [
    AllTypesMatch<["weight", "bias"]>]> {
  let summary = "group normalization (aten::group_norm, nn.GroupNorm; InstanceNorm without running statistics)";
  let description = [{
    `input` is `[N, C, *]`; its C channels form `num_groups` groups of
    `D = C / num_groups` consecutive channels, and each (sample, group) of
    `D * prod(*)` elements is normalized by its own mean and biased
    variance; `weight` and `bias` are `[C]`:

    ```
    rstd   = 1 / sqrt(max(var, 0) + eps)
    result = x * (rstd * weight[c]) + (-(rstd * weight[c]) * mean + bias[c])
    ```

    as torch's CPU GroupNormKernelImpl computes it in f32 (the moments in
    double, torch: a float Welford cascade). The importer passes ones and
    zeros for `affine=False`; InstanceNorm (input statistics, no running
    statistics) is this op with `num_groups = C`.

    ```mlir
    %y = nn.group_norm %x, %w, %b {num_groups = 4 : i64, eps = 1.0e-05 : f32} : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<8x16x4x4xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$weight,
                       NN_FloatTensor:$bias,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_groups,
                       F32Attr:$eps);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def NN_LayerNormOp : NN_DiffOp<"layer_norm"> {
  let summary = "layer normalization over the trailing dimensions (aten::layer_norm)";
  let description = [{
    Normalizes `input` over its last `normalized_rank` dimensions and applies
    the affine map: with `x` a row of those dimensions,

    ```
    y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias
    ```

    where `var` is the biased variance. `weight` and `bias` have the shape of
    the normalized dimensions (the importer passes ones and zeros for
    `elementwise_affine=False`). Like torch's CPU kernel the statistics are
    computed per row and the result as `(x * rstd + (-rstd * mean)) *
    weight + bias` in f32.

    ```mlir
    %y = nn.layer_norm %x, %w, %b {normalized_rank = 1 : i64, eps = 1.0e-05 : f32} : (tensor<4x8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<4x8x32xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$weight,
                       NN_FloatTensor:$bias,
                       ConfinedAttr<I64Attr, [IntPositive]>:$normalized_rank,
                       F32Attr:$eps);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Backward ops (built by the VJPs above)
//===----------------------------------------------------------------------===//

def NN_BatchNormGradOp : NN_GradOp<"batch_norm_grad"> {
  let summary = "gradients of training-mode batch_norm";
  let description = [{
    From the gradient `grad` of a `batch_norm` result, its `input`, `weight`
    and saved `mean` and `invstd`, computes the gradients of the input,
    the weight and the bias (PyTorch's `native_batch_norm_backward` in
    training mode):

    ```
    sum  = sum(grad),  dotp = sum((x - mean) * grad)        per channel
    k    = dotp * invstd^2 / n
    grad_input  = (grad - sum / n - (x - mean) * k) * invstd * weight
    grad_weight = dotp * invstd,  grad_bias = sum
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$input,
                       NN_FloatTensor:$weight, NN_FloatTensor:$mean,
                       NN_FloatTensor:$invstd);
  let results = (outs NN_FloatTensor:$grad_input, NN_FloatTensor:$grad_weight,
                      NN_FloatTensor:$grad_bias);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight `,` $mean `,` $invstd attr-dict
    `:` functional-type(operands, results)
  }];
}

def NN_GroupNormGradOp : NN_GradOp<"group_norm_grad"> {
  let summary = "gradients of group_norm: input, weight and bias";
  let description = [{
    From the result gradient `grad`, the forward `input` and `weight`,
    recomputes each (sample, group)'s mean and rstd as the forward did and
    returns, as torch's CPU `native_group_norm_backward` (derivatives.yaml
    for `native_group_norm`), with per (sample, channel) sums
    `ds = sum(grad * x)`, `db = sum(grad)` over the spatial elements and
    `s = 1 / (D * prod(*))`:

    ```
    dx      = rstd * weight[c] * grad + c2 * x + c3,
              c2 = (sum_c(db * weight) * mean - sum_c(ds * weight)) * rstd^3 * s,
              c3 = -c2 * mean - sum_c(db * weight) * rstd * s
    dweight = sum over samples of (ds - db * mean) * rstd
    dbias   = sum over samples of db
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$input,
                       NN_FloatTensor:$weight,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_groups,
                       F32Attr:$eps);
  let results = (outs NN_FloatTensor:$input_grad, NN_FloatTensor:$weight_grad,
                      NN_FloatTensor:$bias_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def NN_LayerNormGradOp : NN_GradOp<"layer_norm_grad"> {
  let summary = "gradients of layer_norm: input, weight and bias";
  let description = [{
    From the result gradient `grad`, the forward `input` and `weight`,
    recomputes each row's mean and rstd as the forward did and returns, as
    torch's CPU `layer_norm_backward`:

    ```
    dx     = rstd * grad * weight + b * x + c,
             b = (sum(grad * weight) * mean - sum(grad * weight * x)) * rstd^3 / n,
             c = -b * mean - sum(grad * weight) * rstd / n
    dweight = sum over rows of grad * (x - mean) * rstd
    dbias   = sum over rows of grad
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$input,
                       NN_FloatTensor:$weight,
                       ConfinedAttr<I64Attr, [IntPositive]>:$normalized_rank,
                       F32Attr:$eps);
  let results = (outs NN_FloatTensor:$input_grad, NN_FloatTensor:$weight_grad,
                      NN_FloatTensor:$bias_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Evaluation-mode batch normalization
//===----------------------------------------------------------------------===//

def NN_BatchNormInferenceOp : NN_DiffOp<"batch_norm_inference", [
    AllTypesMatch<["weight", "bias", "running_mean", "running_var"]>]> {
  let summary = "batch normalization in evaluation mode (aten::batch_norm, training=False)";
  let description = [{
    A BatchNorm the model put in `.eval()` (a frozen BatchNorm while
    fine-tuning): `input` `[N, C, *]` is normalized with the running
    statistics, which are read, not updated. Per channel c, in float as
    torch 1.13's CPU kernel (`batch_norm_cpu_collect_linear_and_constant_terms`,
    `batch_norm_cpu_contiguous_impl`):

    ```
    invstd = 1 / sqrt(running_var + float(eps))
    alpha  = invstd * weight,  beta = bias - running_mean * alpha
    result = x * alpha + beta
    ```

    Only the input, weight and bias have gradients
    (`nn.batch_norm_inference_grad`); the running statistics get none.

    ```mlir
    %y = nn.batch_norm_inference %x, %w, %b, %running_mean, %running_var {eps = 1.000000e-05 : f64}
        : (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
        -> tensor<8x16x4x4xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$weight,
                       NN_FloatTensor:$bias, NN_FloatTensor:$running_mean,
                       NN_FloatTensor:$running_var, F64Attr:$eps);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $running_mean `,` $running_var attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_BatchNormInferenceGradOp : NN_GradOp<"batch_norm_inference_grad"> {
  let summary = "gradients of evaluation-mode batch_norm";
  let description = [{
    From the gradient `grad` of a `batch_norm_inference` result, its
    `input`, `weight` and running statistics, computes the gradients of the
    input, the weight and the bias as torch 1.13's CPU
    `batch_norm_cpu_backward_contiguous_impl` in evaluation mode:

    ```
    invstd = float(1 / sqrt(double(running_var) + eps))      (in double)
    sum  = sum(grad),  dotp = sum((x - running_mean) * grad)  per channel
    grad_input  = grad * invstd * weight
    grad_weight = dotp * invstd,  grad_bias = sum
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$input,
                       NN_FloatTensor:$weight, NN_FloatTensor:$running_mean,
                       NN_FloatTensor:$running_var, F64Attr:$eps);
  let results = (outs NN_FloatTensor:$grad_input, NN_FloatTensor:$grad_weight,
                      NN_FloatTensor:$grad_bias);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight `,` $running_mean `,` $running_var attr-dict
    `:` functional-type(operands, results)
  }];
}

#endif // DPC_NN_NORMALIZATION_OPS
