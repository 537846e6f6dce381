//===- Passes.td - dpc's transformations -----------------*- tablegen -*-===//
//
// The passes of the training-step pipeline (compiler/Pipeline), in the
// order it runs them:
//   dpc-dp-replicate      (--mode dp) one forward over the replicas' chunks
//   dpc-build-train-step  forward + loss
//   dpc-autodiff          + reverse-mode gradients of the parameters
//   dpc-accumulate        (--accumulate K) K micro-batches, gradients summed
//   dpc-ddp               + gradient averaging over ranks (dp.all_reduce)
//   dpc-sgd / dpc-adam    + optimizer update
//   dpc-ddp-buckets       all-reduces grouped into buckets, start/wait placed
//   dpc-dp-phases         (--mode dp, instead of dpc-ddp and the buckets)
//                         concurrent replica stages
//   dpc-plan-memory       arena offsets for every intermediate tensor
// and then dpc-lower-to-llvm (compiler/Conversion/Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_TRANSFORMS_PASSES
#define DPC_COMPILER_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def BuildTrainStep : Pass<"dpc-build-train-step", "mlir::ModuleOp"> {
  let summary = "Turn the imported forward function into a loss function";
  let description = [{
    Renames `@forward` to `@train_step`, adds the label argument and applies
    the loss to the forward's output, so that the function returns the
    scalar loss of this rank's local batch. The label's type follows from
    the loss: `cross_entropy` takes i64 class indices `[N]` for logits
    `[N, C]`, `mse` a tensor shaped like the output. With `loss=none` the
    forward must already return a scalar.

    When the module also holds `@eval_forward` (the forward as model.eval()
    runs it, which dpc imports for the evaluation step), it becomes
    `@eval_step` the same way, returning the loss and then the model's
    output (`dpc.kind = "output"`). A forward that still updates buffers in
    eval mode (a traced model keeps the mode it was traced in) gets no
    evaluation step, with a warning.

    `label-shape` is the shape the user gives the label. For
    `cross_entropy`, labels with more dimensions whose element count is N
    (`[B, T]` for logits `[B*T, V]`, the language-model case) are taken in
    that shape and flattened to `[N]` by an `nn.reshape` (no copy).
    Language-model logits `[B, T, V]` take labels `[B, T]`: the class dim
    is the last one, as `F.cross_entropy(logits.view(-1, V), y.view(-1))`
    in nanoGPT and Hugging Face, not dim 1 as `F.cross_entropy(logits, y)`
    would read it; both are flattened (views) to `[B*T, V]` and `[B*T]`.

    With `label-dtype` (the user's `--label NAME:DTYPE[SHAPE]`), the label
    the loss needs must be exactly that label; otherwise it is an error
    that names the label the loss needs.
  }];
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"cross_entropy\"",
           "Loss applied to the output: cross_entropy, mse or none">,
    Option<"labelName", "label-name", "std::string", /*default=*/"\"label\"",
           "Name of the label argument">,
    ListOption<"labelShape", "label-shape", "int64_t",
               "Shape of the label as given (cross_entropy flattens labels "
               "with N elements to [N])">,
    Option<"labelDType", "label-dtype", "std::string", /*default=*/"\"\"",
           "Element type of the label as given (f32, f64, i64); when set, "
           "the label must match the loss. Empty: derived from the loss">,
  ];
  let dependentDialects = ["::dpc::nn::NNDialect"];
}

def Autodiff : Pass<"dpc-autodiff", "mlir::ModuleOp"> {
  let summary = "Reverse-mode autodiff of @train_step with respect to its parameters";
  let description = [{
    Appends the backward pass to `@train_step`: seeds the loss with 1, walks
    the forward ops in reverse asking each for its vector-Jacobian product
    (VJPOpInterface), sums the gradients of values used more than once (a
    weight used twice gets one summed gradient) and returns one gradient per
    parameter argument (`dpc.kind = "parameter"`) after the loss, tagged
    `dpc.kind = "gradient"`. A parameter the loss does not depend on gets no
    gradient and is marked `dpc.unused`; like torch.optim, nothing updates
    it, and the pass warns. With `loss-scale` the seed is GradScaler's
    run-time loss scale (`nn.loss_scale`) instead of 1.
  }];
  let options = [
    Option<"lossScale", "loss-scale", "bool", /*default=*/"false",
           "Seed the backward pass with GradScaler's run-time loss scale "
           "(scaler.scale(loss).backward())">,
  ];
  let dependentDialects = ["::dpc::nn::NNDialect"];
}

def SaveLowPrecision : Pass<"dpc-save-low-precision", "mlir::ModuleOp"> {
  let summary = "Keep the 16-bit activations saved for the backward pass in 16 bits";
  let description = [{
    --precision bf16|fp16, right after dpc-autodiff: PyTorch's autocast saves
    the bfloat16 / float16 tensors its ops make for the backward pass as
    16-bit tensors; dpc computes on float32 tensors holding those values
    (the results of `nn.round_bf16` / `nn.round_f16`, and data movement or
    selection of them: compiler/Transforms/LowPrecisionValues.h). Each such tensor that a backward op reads is packed
    (`nn.pack_saved`) after its last forward use and unpacked
    (`nn.unpack_saved`) right before its first backward use, which reads
    the unpacked copy from then on. Both conversions are exact, so the
    numbers are the same; the memory plan (dpc-plan-memory) keeps half the
    bytes alive between the forward and the backward pass. Tensors under
    `min-bytes` in float32 are left alone (a kernel call each way for
    nothing measurable).
  }];
  let options = [
    Option<"storage", "storage", "std::string", /*default=*/"\"bf16\"",
           "The 16-bit type the saved values are exact in and kept in: "
           "bf16 (after nn.round_bf16) or fp16 (after nn.round_f16)">,
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"4096",
           "Smallest float32 size in bytes worth packing">,
  ];
  let dependentDialects = ["::dpc::nn::NNDialect"];
}

def BFloat16Kernels : Pass<"dpc-bf16-kernels", "mlir::ModuleOp"> {
  let summary = "Matrix products and convolutions of bfloat16 values on bfloat16 operands";
  let description = [{
    --precision bf16, after dpc-save-low-precision: every nn.linear, every
    nn.matmul that is one GEMM, every nn.conv2d and conv2d gradient whose
    two multiplied operands hold bfloat16 values (made by nn.round_bf16,
    unpacked by nn.unpack_saved, or data movement or selection of such
    values) reads
    them packed (`tensor<...xbf16>`, one nn.pack_saved right after the
    value is made, shared by every product and by the backward pass) and
    lowers to the _bf16 kernel: oneDNN's bfloat16 primitives where the CPU
    has bfloat16 units, as PyTorch's autocast runs them. Products of
    bfloat16 values are exact in float32, so the result differs from the
    float32 kernel on the same values only by the order of the float32
    sums. A rounding whose every use is then a pack is folded into the
    packs (they round the same way), so a weight's bfloat16 copy exists in
    16 bits only.
  }];
  let dependentDialects = ["::dpc::nn::NNDialect"];
}

def DDPAllReduce : Pass<"dpc-ddp", "mlir::ModuleOp"> {
  let summary = "Average every gradient over the ranks (DistributedDataParallel)";
  let description = [{
    Inserts a synchronous `dp.all_reduce` right after each gradient's final
    value. `dpc-ddp-buckets` later groups these into asynchronous bucketed
    collectives.
  }];
  let dependentDialects = ["::dpc::dp::DPDialect"];
}

def SGD : Pass<"dpc-sgd", "mlir::ModuleOp"> {
  let summary = "Apply torch.optim.SGD to every gradient of @train_step";
  let description = [{
    Replaces each gradient result by an `nn.sgd_update` of its parameter,
    adds a momentum buffer argument per parameter when momentum is non-zero
    (`dpc.kind = "optimizer_state"`), and returns the updated parameters and
    buffers after the loss. Updates are placed at the end of the step in the
    order the gradients become ready, so that each bucket's updates can start
    as soon as its all-reduce has finished.
  }];
  let options = [
    Option<"lr", "lr", "double", /*default=*/"0.01", "Learning rate">,
    Option<"momentum", "momentum", "double", /*default=*/"0.0", "Momentum factor">,
    Option<"dampening", "dampening", "double", /*default=*/"0.0", "Dampening for momentum">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.0",
           "L2 penalty added to the gradient">,
    Option<"nesterov", "nesterov", "bool", /*default=*/"false", "Nesterov momentum">,
    Option<"paramGroups", "param-groups", "std::string", /*default=*/"\"\"",
           "Parameter groups 'PATTERN:lr=X,weight_decay=Y', separated by ';' "
           "(ParamGroups.h); the first matching glob on the state_dict name "
           "wins, group 0 (lr, weight-decay) takes the rest">,
    Option<"runtimeLr", "runtime-lr", "bool", /*default=*/"false",
           "Record the parameter groups on @train_step (dpc.param_groups) so "
           "that the updates read their group's learning rate from the "
           "runtime (Session::setLearningRate, schedules); without it lr is "
           "compiled in. The training pipeline sets it">,
  ];
  let dependentDialects = ["::dpc::nn::NNDialect"];
}

def GradScaler : Pass<"dpc-grad-scaler", "mlir::ModuleOp"> {
  let summary = "GradScaler's unscale_ and inf check before the optimizer updates";
  let description = [{
    After dpc-sgd / dpc-adam and before dpc-clip-gradients (the recipe
    `scaler.scale(loss).backward(); scaler.unscale_(opt); clip...;
    scaler.step(opt); scaler.update()`): one `nn.unscale_grads` of every
    update's (averaged) gradient right before the first update. The
    backward pass must have been seeded with the loss scale (dpc-autodiff's
    `loss-scale`). The options are torch.amp.GradScaler's arguments.
  }];
  let options = [
    Option<"initScale", "init-scale", "double", /*default=*/"65536.0",
           "GradScaler's init_scale">,
    Option<"growthFactor", "growth-factor", "double", /*default=*/"2.0",
           "GradScaler's growth_factor">,
    Option<"backoffFactor", "backoff-factor", "double", /*default=*/"0.5",
           "GradScaler's backoff_factor">,
    Option<"growthInterval", "growth-interval", "int64_t", /*default=*/"2000",
           "GradScaler's growth_interval">,
  ];
  let dependentDialects = ["::dpc::nn::NNDialect"];
}

def ClipGradients : Pass<"dpc-clip-gradients", "mlir::ModuleOp"> {
  let summary = "Clip the gradients before the optimizer updates (torch.nn.utils)";
  let description = [{
    After dpc-sgd / dpc-adam: with `max-norm`, one `nn.clip_grad_norm` of
    every update's (averaged) gradient right before the first update
    (torch.nn.utils.clip_grad_norm_: global norm of type `norm-type`); with
    `clip-value`, an `nn.clip_grad_value` right before each update
    (clip_grad_value_). Zero turns either off.
  }];
  let options = [
    Option<"maxNorm", "max-norm", "double", /*default=*/"0.0",
           "clip_grad_norm_'s max_norm (0: no norm clipping)">,
    Option<"normType", "norm-type", "double", /*default=*/"2.0",
           "clip_grad_norm_'s norm_type (inf for the max norm)">,
    Option<"clipValue", "clip-value", "double", /*default=*/"0.0",
           "clip_grad_value_'s clip_value (0: no value clipping)">,
  ];
  let dependentDialects = ["::dpc::nn::NNDialect"];
}

def DDPBuckets : Pass<"dpc-ddp-buckets", "mlir::ModuleOp"> {
  let summary = "Group gradient all-reduces into buckets and schedule them for overlap";
  let description = [{
    Assigns the `dp.all_reduce` ops of `@train_step` to buckets the way DDP
    does after its first iteration: in the order the gradients are produced,
    filling a bucket until it holds at least the cap (`first-bucket-mb` for
    the first bucket, `bucket-cap-mb` after), so a gradient larger than the
    cap gets a bucket of its own. Each bucket becomes one
    `dp.all_reduce_start`, placed right after its last gradient is produced,
    and one `dp.wait`, placed right before the first use of any of its
    results (the first optimizer update of the bucket). Gradients that are
    still read elsewhere are copied into the bucket first, since the start op
    donates its operands. `grad-comm` fp16 or bf16 marks every bucket to be
    all-reduced in that type (DDP's fp16/bf16_compress_hook).
  }];
  let options = [
    Option<"bucketCapMb", "bucket-cap-mb", "double", /*default=*/"25.0",
           "Bucket size cap in MiB (DDP's bucket_cap_mb)">,
    Option<"firstBucketMb", "first-bucket-mb", "double", /*default=*/"1.0",
           "Cap of the first bucket in MiB">,
    Option<"gradComm", "grad-comm", "std::string", /*default=*/"\"fp32\"",
           "Type the buckets are all-reduced in: fp32, fp16 or bf16 (DDP's "
           "fp16/bf16_compress_hook)">,
  ];
  let dependentDialects = ["::dpc::nn::NNDialect", "::dpc::dp::DPDialect"];
}

def PlanMemory : Pass<"dpc-plan-memory", "mlir::ModuleOp"> {
  let summary = "Place every intermediate tensor of @train_step in one arena";
  let description = [{
    Computes each intermediate value's live range over the step and assigns
    it an offset in a single arena, reusing the space of dead values (first
    fit by decreasing size). The operands of each `dp.all_reduce_start` are
    placed back to back, so a bucket is one contiguous buffer that the
    gradients are computed into. Values that alias others (updated
    parameters, wait results) get no space of their own. Records
    `dpc.offset` on each op (one entry per result) and `dpc.arena_bytes` on
    the function. In the concurrent stages of a --mode dp step
    (`dp.stage`), two values both live in one stage share no space unless
    a single replica alone touches both there. An `@eval_step` (the
    evaluation step) gets an arena of its own, planned the same way.
  }];
}

def Adam : Pass<"dpc-adam", "mlir::ModuleOp"> {
  let summary = "Apply torch.optim.Adam or AdamW to every gradient of @train_step";
  let description = [{
    The counterpart of `dpc-sgd` for Adam: replaces each gradient result by
    an `nn.adam_update` of its parameter, adds two optimizer-state arguments
    per updated parameter, `<param>.exp_avg` and `<param>.exp_avg_sq`
    (`dpc.kind = "optimizer_state"`, zero at the start like torch's state),
    and returns the updated parameters and moments after the loss. Updates
    are placed at the end of the step in gradient-ready order, so that each
    bucket's updates can start as soon as its all-reduce has finished. With
    `decoupled-weight-decay` the update is torch.optim.AdamW's.
  }];
  let options = [
    Option<"lr", "lr", "double", /*default=*/"1e-3", "Learning rate">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9",
           "Decay rate of the first moment (betas[0])">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999",
           "Decay rate of the second moment (betas[1])">,
    Option<"eps", "eps", "double", /*default=*/"1e-8",
           "Added to the denominator for numerical stability">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.0",
           "Weight decay: an L2 penalty added to the gradient (Adam), or "
           "applied to the parameter directly (AdamW)">,
    Option<"decoupledWeightDecay", "decoupled-weight-decay", "bool",
           /*default=*/"false", "AdamW: decouple the weight decay from the "
           "gradient">,
    Option<"paramGroups", "param-groups", "std::string", /*default=*/"\"\"",
           "Parameter groups 'PATTERN:lr=X,weight_decay=Y', separated by ';' "
           "(ParamGroups.h); the first matching glob on the state_dict name "
           "wins, group 0 (lr, weight-decay) takes the rest">,
    Option<"runtimeLr", "runtime-lr", "bool", /*default=*/"false",
           "Record the parameter groups on @train_step (dpc.param_groups) so "
           "that the updates read their group's learning rate from the "
           "runtime (Session::setLearningRate, schedules); without it lr is "
           "compiled in. The training pipeline sets it">,
  ];
  let dependentDialects = ["::dpc::nn::NNDialect"];
}

def Accumulate : Pass<"dpc-accumulate", "mlir::ModuleOp"> {
  let summary = "Gradient accumulation: K micro-batches per optimizer step";
  let description = [{
    Runs between `dpc-autodiff` and `dpc-ddp`. Every input and label
    argument of `@train_step` grows from `[B, ...]` to `[K*B, ...]`: K
    micro-batches back to back. The forward and backward pass is unrolled K
    times, micro-batch k reading its rows through `nn.micro_batch` (a view),
    so only one micro-batch's activations are live at a time. Gradients are
    summed over the micro-batches as they become ready and scaled by 1/K,
    the loss is the mean of the micro-batch losses, and updated buffers are
    threaded from one micro-batch to the next. The all-reduce and the
    optimizer that follow then run once per step: DDP's `no_sync` pattern
    with `(loss / K).backward()` per micro-batch. `micro-batches=1` changes
    nothing.
  }];
  let options = [
    Option<"microBatches", "micro-batches", "int64_t", /*default=*/"1",
           "Micro-batches per optimizer step (K)">,
  ];
  let dependentDialects = ["::dpc::nn::NNDialect"];
}


def DPReplicate : Pass<"dpc-dp-replicate", "mlir::ModuleOp"> {
  let summary = "Replicate the forward over devices like nn.DataParallel (--mode dp)";
  let description = [{
    Runs first, before `dpc-build-train-step`. The whole batch of `batch`
    samples is split into torch.chunk's chunks over `devices` devices
    (`ceil(batch / devices)` rows each, a smaller last one, possibly fewer
    chunks than devices); each chunk is one replica. The module holds the
    forward imported for the first chunk's size as `@forward` and, when the
    last chunk is smaller, the forward imported for it as `@forward_last`
    (shapes are static, so each chunk size is its own import). They become
    one `@forward` over the whole batch:

    - every parameter and buffer is copied to the replicas by one
      `dp.replicate` (Broadcast) on device 0;
    - every input is split by one `dp.scatter` per replica (Scatter);
    - the forward body is inlined once per replica, every op tagged
      `dp.replica = r` and keeping the model's locations;
    - the replicas' outputs are concatenated on device 0 by `dp.gather`.

    The loss that `dpc-build-train-step` then applies is computed on device
    0 on the whole batch, and autodiff differentiates through the adjoint
    pairs (Gather's VJP scatters the output gradient, Replicate's sums the
    replicas' parameter gradients with `dp.reduce_add`), so one step equals
    single-process training on the whole batch. When the batch gives
    fewer chunks than devices, the pass warns.
  }];
  let options = [
    Option<"devices", "devices", "int64_t", /*default=*/"1",
           "Number of devices the batch is scattered over">,
    Option<"batch", "batch", "int64_t", /*default=*/"0",
           "Samples in the whole batch (dimension 0 of every input)">,
  ];
  let dependentDialects = ["::dpc::dp::DPDialect", "::dpc::nn::NNDialect"];
}

def DPPhases : Pass<"dpc-dp-phases", "mlir::ModuleOp"> {
  let summary = "Group a data-parallel step into concurrent replica stages";
  let description = [{
    Runs after the optimizer pass in `--mode dp`. Assigns every op of
    `@train_step` a stage, `dp.stage = k`: odd stages hold ops tagged
    `dp.replica` (the replicas run them concurrently, one thread each), even
    stages hold device-0 ops (untagged). Each op goes to the earliest stage
    of its kind that follows its operands' stages, where an op may share a
    stage with its operand only when both run on the same replica or both
    on device 0; an op that updates storage in place (an optimizer update)
    also follows every earlier reader of that storage and its views. The
    block is then reordered by stage, keeping the original order within a
    stage, so that the step becomes: replicate, the replicas' forward,
    gather and loss, the replicas' backward, reduce-add and update.
  }];
}

#endif // DPC_COMPILER_TRANSFORMS_PASSES
