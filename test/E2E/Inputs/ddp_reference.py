"""Trains a model with real PyTorch DDP and compares dpc's results with it.

usage: ddp_reference.py DIR --world-size N --log RUN.log
           --checkpoint OUT.safetensors --steps K --local-batch B
           --lr ... [--optimizer sgd|adamw] [--momentum --dampening
           --weight-decay --nesterov] [--eps 1e-8] [--rtol 1e-5] [--atol 1e-7]
           [--param-group 'PATTERN:lr=X,weight_decay=Y']...
           [--lr-schedule SPEC] [--clip-grad-norm MAX [--clip-norm-type P]]
           [--clip-grad-value V] [--comm-hook fp16|bf16]
           [--autocast bf16|fp16 [--lp-rtol R --lp-fraction F --loss-rtol L]]
           [--grad-scaler [--init-scale 65536 --growth-factor 2
           --backoff-factor 0.5 --growth-interval 2000]]

The reference is torch.nn.parallel.DistributedDataParallel on N processes
(torch.multiprocessing, gloo backend, file:// rendezvous in a temporary
directory), each loading the TorchScript module DIR/model.pt in training
mode. Step k uses the k-th global batch of N*B consecutive samples of
DIR/x.npy / DIR/y.npy (wrapping around like dpc-run); rank r takes its r-th
contiguous slice of B samples, computes F.cross_entropy (mean) on it, and
DDP averages the gradients over the ranks before torch.optim.SGD (or
AdamW, default betas) steps.
With the recipe options (torch_recipe.py): the optimizer has dpc's
parameter groups (--param-group, as `dpc --param-group`), a
torch.optim.lr_scheduler built from the dpc-run --lr-schedule spec steps
after every optimizer step, and torch.nn.utils.clip_grad_norm_ /
clip_grad_value_ clip the averaged gradients between backward and the
optimizer step (as `dpc --clip-grad-norm` / `--clip-grad-value`). The
checkpoint's 'optimizer.param_groups.<g>.lr' (and .beta1 / .momentum) must then equal torch's
param_groups' lr after the run (when every group has parameters).
With --dpc-masks SEED (models with dropout or torchvision's
StochasticDepth): PyTorch trains an eager copy of the model instead (--eager
SPEC: 'torchvision:NAME[:JSON]' for torchvision.models.NAME(num_classes=10,
**JSON), 'timm:NAME[:JSON]' for timm's,
'cnn_models:NAME' for a model of cnn_models.py, 'gpt_models:NAME' for one of
gpt_models.py (its default sizes), 'huggingface:NAME:JSON' for
make_hf_model.make(NAME, **JSON); DIR/model.pt's weights)
whose Dropout and StochasticDepth modules use the masks dpc draws with
`dpc-run --seed SEED` (dropout_reference.py, computed from the generator's
specification): rank r's masks of step k are drawn at rank r, step k.
With --comm-hook, DDP all-reduces its buckets through fp16_compress_hook
or bf16_compress_hook (see compress_hook), as `dpc --grad-comm fp16|bf16`
does, and the tensors are compared with the
rounding-flip criterion of compare_compressed.
DDP's defaults apply, in particular broadcast_buffers=True: before every
forward, rank 0's buffers overwrite everyone's, and each rank then
normalizes with its own batch statistics and updates its running statistics
from them. So with BatchNorm the result differs from single-process
training on the global batch, and this script is the reference for
multi-rank runs of models with buffers.

Compared, all of which must hold:
- rank 0's parameters, buffers (running statistics, num_batches_tracked) and
  optimizer state (momentum buffers; Adam's exp_avg, exp_avg_sq) against
  dpc's checkpoint (written by rank 0):
  |dpc - torch| <= rtol * max|torch| + atol per tensor (normwise relative
  error in the max norm); integer buffers exactly;
- the checkpoint's step counter is K;
- each 'step k/K  loss L' line of the run log (the loss averaged over the
  ranks) against the mean over ranks of PyTorch's losses of step k, to rtol
  (plus the 5e-7 that printing with 6 decimals can round);
- with --metrics, the grad_norm of every step in dpc-run's metrics file
  against the L2 norm of PyTorch's averaged gradients before clipping, to
  rtol.
--also LOG CHECKPOINT (repeatable) compares another dpc run with the same
reference, trained once: a `--mode dp` run with N replicas of B samples
(nn.DataParallel's arithmetic for equal chunks is DDP's: replica 0's
buffers are kept, the gradients and the logged loss are the mean over the
replicas) beside the DDP run on N ranks. Each gets its own 'LOG: compared'
line.

--accumulate K (dpc --accumulate): each step runs K micro-batches of
--local-batch samples per rank (rank r the r-th slice of K * local-batch),
backpropagating each micro-batch's loss / K (scaled by the GradScaler when
there is one) under DDP's no_sync but the last; the logged loss is the mean
of the micro-batch losses.
--autocast bf16|fp16 (dpc --precision): the forward and the loss run under
torch.autocast("cpu", dtype=torch.bfloat16 / torch.float16), each op on a
16-bit tensor evaluated in float32 and rounded once (Float32Opmath), and
the tensors are compared with compare_autocast's criterion, PyTorch's plain
float32 run beside it for scale. fp16 needs PyTorch 2 (Debian's torch 1.13
has no float16 autocast on the CPU): run this script with %torch2-python
(PyTorch 2.5.1, the venv of scripts/setup.sh), which runs everything else
here too.
--grad-scaler (dpc's dynamic loss scaling; PyTorch 2) trains as
torch.amp.GradScaler("cpu", init_scale=..., growth_factor=...,
backoff_factor=..., growth_interval=...) does:
`scaler.scale(loss).backward()`, with clipping `scaler.unscale_(opt)` and
the clip, `scaler.step(opt)`, `scaler.update()` (the lr scheduler steps
every iteration). Also in float32 (no --autocast; a huge --init-scale makes
the gradients overflow). PyTorch's loss scale of every step and whether it
skipped the optimizer step are printed; compared exactly with the
checkpoint's grad_scaler.scale, .growth_tracker and .skipped_steps (the
steps skipped for inf/NaN gradients) and with the 'loss_scale S' (%.6g) of
each step's log line (the scale that step used). The reference runs beside
the first (the float32 run of --autocast, the float64 run of
--float64-multiple) have no scaler and skip the optimizer steps that the
first skipped, so that their distances measure the precision alone.
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import traceback
import warnings
from collections import OrderedDict

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map, tree_unflatten

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_against_torch import (  # noqa: E402
    check_float64, check_step_counter, compare_logged_losses, compare_tensors,
    read_logged_field, read_logged_losses, read_safetensors)
from dropout_reference import with_dpc_masks  # noqa: E402
from torch_recipe import lr_scheduler, param_groups  # noqa: E402


def train(rank, a, tmp, dtypes):
    """Rank `rank`'s process: trains the reference once in each of `dtypes`,
    one after the other in the same process group (one start of the
    processes for float32 and float64: importing torch takes longer than
    training the smaller models)."""
    torch.set_num_threads(1)
    if any(d in AUTOCAST_DTYPES for d in dtypes):
        enable_cpu_autocast()
    dist.init_process_group("gloo", init_method=f"file://{tmp}/rendezvous",
                            rank=rank, world_size=a.world_size)
    skips = None
    for dtype in dtypes:
        skips = train_in(rank, a, tmp, dtype, skips)
    dist.destroy_process_group()


def train_or_exit(rank, a, tmp, dtypes):
    """train(), and on an exception its traceback and the process's end
    (exit status 1) at once: after a backward that raised, PyTorch 2.5.1
    hangs at exit (the autograd nodes it left queued are freed after
    Python's finalization, and freeing a tensor of numpy's memory waits for
    the GIL), and with it a lit test."""
    try:
        train(rank, a, tmp, dtypes)
    except Exception:
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        if a.world_size == 1:
            shutil.rmtree(tmp, ignore_errors=True)
        os._exit(1)


def train_in(rank, a, tmp, dtype, skips=None):
    """Trains the reference in `dtype` on this rank; writes its losses and
    rank 0's state to TMP/DTYPE-rankR.npz. A key of AUTOCAST_DTYPES: float32
    under torch.autocast("cpu", dtype=that type). With --grad-scaler, the
    first run (`skips` None) trains with the GradScaler; a later run gets
    the first's skipped steps as `skips` and skips the same optimizer steps
    without a scaler. Returns the skipped steps (a bool per step)."""
    name = dtype_name(dtype)
    low = AUTOCAST_DTYPES.get(dtype) if isinstance(dtype, str) else None
    autocast = low is not None
    if autocast:
        dtype = torch.float32
    model = torch.jit.load(f"{a.dir}/model.pt")
    coords = None
    if a.dpc_masks is not None:
        scripted, model = model, eager_model(a.eager)
        # Every tensor of the eager model's state_dict from the saved one
        # (strict about those); the saved one may hold more: a traced module
        # keeps non-persistent buffers too (GPT-2's causal mask).
        saved = scripted.state_dict()
        own = model.state_dict()
        state = OrderedDict((name, saved[name]) for name in own)
        # The eager model's own metadata: the version number that MNASNet's
        # _load_from_state_dict requires (the scripted copy's is the same).
        state._metadata = own._metadata
        model.load_state_dict(state)
        coords = with_dpc_masks(model, a.dpc_masks)
    model.to(dtype)
    # No .train(): every module runs in the mode it was saved in, as dpc
    # compiles it (a module the model put in .eval() stays so).
    # gloo cannot broadcast torch.bool tensors ("Invalid scalar type"), so
    # DDP is told to leave bool buffers (a causal mask, the same constant on
    # every rank) out of its buffer broadcasts.
    bool_buffers = [n for n, b in model.named_buffers() if b.dtype == torch.bool]
    if bool_buffers:
        DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
            model, bool_buffers)
    ddp = DistributedDataParallel(model)
    if a.comm_hook is not None:
        ddp.register_comm_hook(None, compress_hook(COMM_TORCH_DTYPE[a.comm_hook]))
    params = [p for p in model.parameters() if p.requires_grad]
    groups = param_groups([(n, p) for n, p in model.named_parameters() if p.requires_grad],
                          a.param_group, a.lr, a.weight_decay)
    torch_groups = [{k: v for k, v in g.items() if k != "names"} for g in groups
                    if g["params"]]
    if a.optimizer == "sgd":
        opt = torch.optim.SGD(torch_groups, lr=a.lr, momentum=a.momentum,
                              dampening=a.dampening, weight_decay=a.weight_decay,
                              nesterov=a.nesterov)
        state_names = ["momentum_buffer"]
    else:
        opt = torch.optim.AdamW(torch_groups, lr=a.lr, weight_decay=a.weight_decay, eps=a.eps)
        state_names = ["exp_avg", "exp_avg_sq"]
    sched = lr_scheduler(opt, a.lr_schedule) if a.lr_schedule else None
    scaler = None
    if a.grad_scaler:
        if skips is None:
            scaler = torch.amp.GradScaler(
                "cpu", init_scale=a.init_scale, growth_factor=a.growth_factor,
                backoff_factor=a.backoff_factor, growth_interval=a.growth_interval)
        # The lr scheduler steps where the optimizer skipped (a warning).
        warnings.filterwarnings(
            "ignore", message=re.escape("Detected call of `lr_scheduler.step()` before"))
    loss_scales = []  # the scale each step used
    skipped = []  # whether the scaler skipped the step's optimizer step
    x = torch.from_numpy(np.load(f"{a.dir}/x.npy"))
    if x.is_floating_point():
        x = x.to(dtype)
    y = torch.from_numpy(np.load(f"{a.dir}/y.npy"))
    # --accumulate K: a step takes K micro-batches of local_batch samples on
    # each rank (rank r the r-th slice of K * local_batch, in order), each
    # micro-batch's loss / K backpropagated under no_sync but the last, as
    # PyTorch's recipe (and scaler.scale(loss / K) with a GradScaler).
    k = a.accumulate
    global_batch = a.world_size * k * a.local_batch
    batches = x.shape[0] // global_batch
    losses = []
    clipped = 0  # steps in which clipping changed a gradient
    grad_norms = []  # the averaged gradients' L2 norm before clipping
    for step in range(a.steps):
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            loss_scales.append(scaler.get_scale())
        micro_losses = []
        for micro in range(k):
            begin = ((step % batches) * global_batch + rank * k * a.local_batch
                     + micro * a.local_batch)
            xb, yb = x[begin:begin + a.local_batch], y[begin:begin + a.local_batch]
            if coords is not None:
                coords.start_forward(step, rank=rank)
            opmath = Float32Opmath(low) if autocast and not a.torch_bf16_kernels \
                else contextlib.nullcontext()
            sync = ddp.no_sync() if micro < k - 1 else contextlib.nullcontext()
            with sync:
                with opmath, torch.autocast("cpu", dtype=low or torch.bfloat16,
                                            enabled=autocast):
                    out = ddp(xb)
                # A tuple output (GoogLeNet's outputs): the loss reads the
                # first element, as dpc's default --loss-output.
                if isinstance(out, tuple):
                    out = out[0]
                # Language-model logits [B, T, V] with labels [B, T],
                # flattened as dpc (and Hugging Face) read them.
                if out.dim() == 3 and yb.dim() == 2:
                    out, yb = out.reshape(-1, out.shape[-1]), yb.reshape(-1)
                # Logits the model flattened to [B*T, V] itself (nanoGPT's
                # `logits.view(-1, V)`), with labels [B, T], as dpc takes
                # them.
                if out.dim() == 2 and yb.dim() == 2 and out.shape[0] == yb.numel():
                    yb = yb.reshape(-1)
                with opmath:
                    with torch.autocast("cpu", dtype=low or torch.bfloat16,
                                        enabled=autocast):
                        loss = F.cross_entropy(out, yb)
                    scaled = loss / k if k > 1 else loss
                    if scaler is not None:
                        scaler.scale(scaled).backward()
                    else:
                        scaled.backward()
            micro_losses.append(loss.item())
        clip = a.clip_grad_norm is not None or a.clip_grad_value is not None
        if scaler is not None and clip:
            scaler.unscale_(opt)
        # In float64 from the float32 gradients, as dpc sums them; of the
        # unscaled gradients (inf or NaN where they overflowed).
        grad_norm = torch.stack([p.grad.double().pow(2).sum() for p in params]).sum().sqrt()
        if scaler is not None and not clip:
            grad_norm = grad_norm / loss_scales[-1]
        grad_norms.append(grad_norm.item())
        if a.clip_grad_norm is not None:
            total = torch.nn.utils.clip_grad_norm_(params, a.clip_grad_norm,
                                                   norm_type=a.clip_norm_type)
            clipped += int(total.item() > a.clip_grad_norm)
        if a.clip_grad_value is not None:
            clipped += int(any(p.grad.abs().max().item() > a.clip_grad_value
                               for p in params))
            torch.nn.utils.clip_grad_value_(params, a.clip_grad_value)
        if scaler is not None:
            scaler.step(opt)
            # Before update(), which forgets it: whether step() found inf
            # or NaN in the unscaled gradients and skipped opt.step().
            skipped.append(sum(v.item() for v in
                               scaler._found_inf_per_device(opt).values()) > 0)
            scaler.update()
        elif skips is not None and skips[step]:
            skipped.append(True)
        else:
            opt.step()
            skipped.append(False)
        if sched is not None:
            sched.step()
        losses.append(sum(micro_losses) / k)

    state = {name: t.detach().numpy().copy() for name, t in model.named_parameters()}
    state.update({name: t.numpy().copy() for name, t in model.named_buffers()})
    names = {id(p): n for n, p in model.named_parameters()}
    for p in params:
        for state_name in state_names:
            buf = opt.state.get(p, {}).get(state_name)
            if buf is not None:
                state[f"optimizer.{names[id(p)]}.{state_name}"] = buf.numpy().copy()
    if (a.param_group or a.lr_schedule) and all(g["params"] for g in groups):
        for index, group in enumerate(opt.param_groups):
            state[f"optimizer.param_groups.{index}.lr"] = np.array(group["lr"])
            # The momentum dpc reads at run time (Adam's beta1; SGD's
            # momentum where compiled non-zero), as OneCycleLR leaves it.
            if a.optimizer == "adamw":
                state[f"optimizer.param_groups.{index}.beta1"] = np.array(group["betas"][0])
            elif a.momentum != 0:
                state[f"optimizer.param_groups.{index}.momentum"] = np.array(group["momentum"])
    draws = [0, 0, 0, 0, 0.0]
    if coords is not None:
        draws = [coords.drawn, coords.kept, coords.depth_draws, coords.depth_zeros,
                 coords.depth_expected_ones]
    # The scaler's state after the run (-1: none).
    scaler_state = [scaler.get_scale(), scaler._get_growth_tracker()] if scaler else [-1, -1]
    np.savez(f"{tmp}/{name}-rank{rank}.npz", losses=np.array(losses),
             clipped=np.array(clipped), grad_norms=np.array(grad_norms),
             draws=np.array(draws), loss_scales=np.array(loss_scales, dtype=np.float32),
             skipped=np.array(skipped, dtype=bool),
             scaler_state=np.array(scaler_state, dtype=np.float64), **state)
    return skipped


def compress_hook(comm_dtype):
    """DDP's fp16_compress_hook / bf16_compress_hook (default_hooks): the
    bucket rounded to `comm_dtype` and divided by the world size there,
    all-reduced in it, copied back. Run synchronously, with the all-reduce
    waited for inside the hook: PyTorch 1.13's own fp16 hook, whose Python
    callback runs on gloo's thread, hung in 1 of 7 runs here. And gloo cannot
    all-reduce bfloat16 ("Invalid scalar type"), so that sum is taken exactly
    in float32 and rounded to bfloat16 once; on 2 ranks that is NCCL's
    bfloat16 sum (each addition in float32, rounded to bfloat16)."""
    def hook(process_group, bucket):
        world_size = dist.get_world_size(process_group)
        compressed = bucket.buffer().to(comm_dtype).div_(world_size)
        if comm_dtype == torch.bfloat16:
            summed = compressed.float()
            dist.all_reduce(summed, group=process_group)
            compressed = summed.to(comm_dtype)
        else:
            dist.all_reduce(compressed, group=process_group)
        buffer = bucket.buffer()
        buffer.copy_(compressed)
        done = torch.futures.Future()
        done.set_result(buffer)
        return done
    return hook


# Significand bits after the point of the 16-bit types.
COMM_MANTISSA_BITS = {"fp16": 10, "bf16": 7}
COMM_TORCH_DTYPE = {"fp16": torch.float16, "bf16": torch.bfloat16}


def compare_compressed(a, expected, ckpt, failures):
    """The criterion of a run with a compression hook. Both sides round float32
    gradients to 16 bits, and where dpc's and PyTorch's float32 gradient of an
    element differ in the last bit (summation order), an element at a
    rounding boundary goes to the neighbouring 16-bit value: a "flip" of one
    16-bit step, 2^8 (fp16) to 2^16 (bf16) float32 ulps. So each tensor must
    match to rtol except in at most 1% of all elements, where it may differ
    by up to 4 steps of the 16-bit type relative to the tensor's largest
    value. After the first step of SGD with momentum, the momentum buffer is
    the averaged gradient itself, which came back from the 16-bit all-reduce:
    then every element of dpc's must be a value of that type, exactly.
    Returns the worst normwise relative error."""
    step16 = 2.0 ** -COMM_MANTISSA_BITS[a.comm_hook]
    worst, flips, elements = 0.0, 0, 0
    for name, ref in sorted(expected.items()):
        if name not in ckpt or ckpt[name].shape != ref.shape or ref.dtype.kind in "ib":
            compare_tensors({name: ref}, ckpt, a.rtol, a.atol, failures)
            continue
        got = ckpt[name].astype(np.float64)
        scale = float(np.abs(ref).max()) or 1.0
        err = np.abs(got - ref) / scale
        worst = max(worst, float(err.max()))
        flipped = int((err > a.rtol + a.atol / scale).sum())
        flips += flipped
        elements += ref.size
        if err.max() > 4 * step16:
            failures.append(f"'{name}': differs by {err.max():.2e} of its largest value, "
                            f"more than 4 steps of {a.comm_hook} ({4 * step16:.2e})")
        if a.steps == 1 and name.endswith(".momentum_buffer"):
            narrow = torch.from_numpy(ckpt[name]).to(COMM_TORCH_DTYPE[a.comm_hook]).float()
            if not torch.equal(narrow, torch.from_numpy(ckpt[name])):
                failures.append(f"'{name}': the averaged gradient holds values that are "
                                f"not {a.comm_hook}")
    print(f"{flips} of {elements} elements differ from PyTorch by a rounding flip")
    if flips > 0.01 * elements:
        failures.append(f"{flips} of {elements} elements differ by more than rtol "
                        f"(at most 1% may, by a rounding flip)")
    return worst


def dtype_name(dtype):
    return dtype if isinstance(dtype, str) else str(dtype).replace("torch.", "")


# The reference variants of --autocast bf16|fp16, as `dtypes` name them:
# float32 under torch.autocast("cpu", dtype=the type).
AUTOCAST_DTYPES = {"autocast-bf16": torch.bfloat16, "autocast-fp16": torch.float16}
TORCH_MAJOR = int(torch.__version__.split(".")[0])


def enable_cpu_autocast():
    """Lets torch.autocast act on the TorchScript module's ops, and gives
    torch 1.13 the mixed-type layer_norm and group_norm of PyTorch 2's CPU
    kernels. TorchScript's own autocast pass does not handle the CPU in
    1.13 (the module runs in float32 under torch.autocast); turned off, the
    interpreter's ops go through the AutocastCPU dispatch key as eager ops
    do, and eager autograd differentiates them. torch 1.13 refuses layer_norm / group_norm of a bfloat16 input with
    float32 weights ("expected scalar type BFloat16 but found Float");
    PyTorch 2 computes them in float32 and returns the input's type, as
    these kernels (registered for AutocastCPU) do, and as dpc does. Under
    PyTorch 2 (2.5.1) only the TorchScript settings apply: its own kernels
    are those, and its float16 and bfloat16 autocast go through the same
    AutocastCPU key (checked: a scripted nn.Linear's output is float16
    under torch.autocast("cpu", dtype=torch.float16))."""
    torch._C._jit_set_autocast_mode(False)
    # And without the graph executor's optimizations: its differentiable
    # graphs (symbolic_script's linear backward) assume one dtype throughout;
    # unoptimized, every op differentiates through eager autograd.
    torch._C._set_graph_executor_optimize(False)
    if TORCH_MAJOR >= 2:
        return
    global _AUTOCAST_LIBRARY
    _AUTOCAST_LIBRARY = torch.library.Library("aten", "IMPL", "AutocastCPU")

    def layer_norm(x, shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
        with torch.autocast("cpu", enabled=False):
            return F.layer_norm(x.float(), shape, weight, bias, eps).to(x.dtype)

    def group_norm(x, groups, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
        with torch.autocast("cpu", enabled=False):
            return F.group_norm(x.float(), groups, weight, bias, eps).to(x.dtype)
    _AUTOCAST_LIBRARY.impl("layer_norm", layer_norm)
    _AUTOCAST_LIBRARY.impl("group_norm", group_norm)


class Float32Opmath(TorchDispatchMode):
    """Evaluates every aten op that reads a bfloat16 tensor (`dtype`: or a
    float16 one, for --autocast fp16) in float32 on the same values and
    rounds its floating results back to the types PyTorch's op returns: a
    16-bit kernel that computes in float32 and rounds its result once, as
    dpc's ops do (and as oneDNN's and cuBLAS's bfloat16 and float16 GEMMs
    accumulate). Below autograd, so the backward kernels
    too. Needed because several of torch 1.13's bfloat16 CPU kernels
    accumulate in bfloat16 instead: matrix products on CPUs without AVX512
    (cpublas's fallback: 2 of 3 elements of a product differ from the
    float32-accumulated result rounded once), avg_pool2d's backward (1031
    of 2048 elements), GELU (forward and backward), log_softmax and
    softmax's backward. Which ops run in bfloat16 is autocast's decision and
    stays PyTorch's; in-place ops run as they are. The same for float16:
    PyTorch 2.5.1's float16 CPU matrix products differ from the float32
    product rounded once too (7 of 3072 elements of a [64, 256] x [256, 48]
    product here)."""

    def __init__(self, dtype=torch.bfloat16):
        super().__init__()
        self.dtype = dtype

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tensors = [a for a in tree_flatten((args, kwargs))[0] if isinstance(a, torch.Tensor)]
        if func._schema.is_mutable or not any(t.dtype == self.dtype for t in tensors):
            return func(*args, **kwargs)
        # The op's own result, for the types (and the shapes) it returns;
        # on copies, since not every schema of torch 1.13 declares what the
        # op writes (native_batch_norm's running statistics).
        copy = lambda a: a.clone() if isinstance(a, torch.Tensor) else a  # noqa: E731
        own = func(*tree_map(copy, args), **tree_map(copy, kwargs))
        # And a dtype argument of the 16-bit type (the input_dtype of
        # _softmax_backward_data, which PyTorch 2 checks against the
        # gradient's type) as float32: the result is rounded to it anyway.
        def widen(a):
            if isinstance(a, torch.Tensor) and a.dtype == self.dtype:
                return a.float()
            return torch.float32 if a is self.dtype else a
        computed = func(*tree_map(widen, args), **tree_map(widen, kwargs))
        flat_own, spec = tree_flatten(own)
        flat = [c.to(o.dtype) if isinstance(c, torch.Tensor) and c.is_floating_point() else c
                for c, o in zip(tree_flatten(computed)[0], flat_own)]
        return tree_unflatten(flat, spec)


def compare_loss_curve(a, losses, failures):
    """--loss-window W: the loss curve, in windows of W steps. Each
    window's mean of dpc's logged losses must be within a.loss_window_rtol
    (relative) of the mean of PyTorch's; over many steps of bfloat16 training
    single losses diverge (a rounding flip in one step changes the later
    ones), the curve does not. PyTorch float32's distance (with --autocast)
    is printed beside dpc's, for scale."""
    logged = read_logged_losses(a.log)
    if sorted(logged) != list(range(1, a.steps + 1)):
        failures.append(f"the log has losses for {len(logged)} steps, expected 1..{a.steps}")
        return
    dpc = np.array([logged[k] for k in range(1, a.steps + 1)])
    windows = range(0, a.steps - a.loss_window + 1, a.loss_window)

    def worst(curve):
        return max(abs(curve[w:w + a.loss_window].mean() - losses[w:w + a.loss_window].mean())
                   / losses[w:w + a.loss_window].mean() for w in windows)
    dpc_worst = worst(dpc)
    text = f"loss curve in {len(windows)} windows of {a.loss_window} steps: worst relative " \
           f"distance of the window means from PyTorch's: dpc {dpc_worst:.2e}"
    if a.fp32_losses is not None:
        text += f", PyTorch float32 {worst(a.fp32_losses):.2e}"
    print(text + f" (at most {a.loss_window_rtol:g})")
    if not dpc_worst <= a.loss_window_rtol:
        failures.append(f"a window's mean loss is {dpc_worst:.3g} from PyTorch's, more than "
                        f"{a.loss_window_rtol:g}")


def compare_autocast(a, expected, fp32, ckpt, failures):
    """--autocast bf16|fp16: dpc's tensors against PyTorch's under autocast
    (`expected`), with PyTorch's plain float32 run (`fp32`) as the yardstick
    of what bfloat16 changes. Per tensor, the normwise relative distance in
    the max norm must be at most a.bf16_rtol; over all tensors, the L2
    distance of dpc from PyTorch's autocast run must be at most
    a.bf16_fraction of the L2 distance of PyTorch's float32 run from it (so
    a dpc that computed in float32, or rounded elsewhere, fails); with
    --grad-scaler, the float32 run skips the optimizer steps the autocast
    run skipped. Returns
    the worst per-tensor distance."""
    worst, dpc_sq, fp32_sq = 0.0, 0.0, 0.0
    for name, ref in sorted(expected.items()):
        if ref.dtype.kind in "ib":
            compare_tensors({name: ref}, ckpt, 0.0, 0.0, failures)
            continue
        if name not in ckpt:
            failures.append(f"checkpoint lacks '{name}'")
            continue
        ref = ref.astype(np.float64)
        got = ckpt[name].astype(np.float64)
        # Infinities (a causal mask of 0 and -inf) where PyTorch has them;
        # the distances are over the finite values.
        finite = np.isfinite(ref)
        if got.shape != ref.shape or not np.array_equal(np.isfinite(got), finite) or \
                not np.array_equal(got[~finite], ref[~finite], equal_nan=True):
            failures.append(f"'{name}': its shape, infinities or NaNs differ from torch's")
            continue
        got, ref = got[finite], ref[finite]
        if ref.size == 0:
            continue
        scale = float(np.abs(ref).max()) or 1.0
        rel = float(np.abs(got - ref).max()) / scale
        worst = max(worst, rel)
        if not rel <= a.bf16_rtol:
            failures.append(f"'{name}': max |dpc - torch autocast| is {rel:.3g} of its "
                            f"largest value, more than {a.bf16_rtol:g}")
        dpc_sq += float(((got - ref) ** 2).sum())
        fp32_sq += float(((fp32[name].astype(np.float64)[finite] - ref) ** 2).sum())
    # Both 0 where no optimizer step was taken (the grad scaler skipped
    # them all): dpc is PyTorch's autocast run then.
    ratio = np.sqrt(dpc_sq / fp32_sq) if fp32_sq > 0 else 0.0 if dpc_sq == 0 else np.inf
    print(f"L2 distance from PyTorch autocast: dpc {np.sqrt(dpc_sq):.3e}, PyTorch float32 "
          f"{np.sqrt(fp32_sq):.3e} (ratio {ratio:.3f}, at most {a.bf16_fraction:g})")
    if not ratio <= a.bf16_fraction:
        failures.append(f"dpc is {ratio:.3f} as far from PyTorch's autocast run as PyTorch's "
                        f"float32 run is, more than {a.bf16_fraction:g}")
    return worst


def run_ddp(a, dtypes):
    """For each of `dtypes`, rank 0's final state and the losses averaged
    over ranks (see `summarize`). One rank trains in this process."""
    with tempfile.TemporaryDirectory() as tmp:
        if a.world_size == 1:
            train_or_exit(0, a, tmp, dtypes)
        else:
            mp.spawn(train_or_exit, args=(a, tmp, dtypes), nprocs=a.world_size)
        return [summarize([dict(np.load(f"{tmp}/{dtype_name(dtype)}-rank{r}.npz"))
                           for r in range(a.world_size)]) for dtype in dtypes]


def summarize(ranks):
    """Rank 0's state, the losses averaged over the ranks, rank 0's count of
    clipped steps and gradient norms, the draws summed over the ranks, and
    rank 0's grad scaler record ({'loss_scales', 'skipped', 'scale',
    'growth_tracker'}; every rank's is the same, from the same averaged
    gradients)."""
    losses = np.mean([r.pop("losses") for r in ranks], axis=0)
    clipped = int(ranks[0].pop("clipped"))
    grad_norms = ranks[0].pop("grad_norms")
    draws = np.sum([r.pop("draws") for r in ranks], axis=0)
    scale, growth_tracker = ranks[0].pop("scaler_state")
    scaler = {"loss_scales": ranks[0].pop("loss_scales"), "skipped": ranks[0].pop("skipped"),
              "scale": np.float32(scale), "growth_tracker": int(growth_tracker)}
    for r in ranks[1:]:
        for key in ("clipped", "grad_norms", "scaler_state", "loss_scales", "skipped"):
            r.pop(key)
    return ranks[0], losses, clipped, grad_norms, draws, scaler


def eager_model(spec):
    """The eager model that --eager SPEC names (see the module docstring)."""
    kind, _, name = spec.partition(":")
    if kind in ("torchvision", "timm"):
        from make_torchvision_model import zoo_model
        name, _, kwargs = name.partition(":")
        return zoo_model(name if kind == "torchvision" else "timm:" + name,
                         json.loads(kwargs) if kwargs else {}).train()
    if kind == "cnn_models":
        from cnn_models import MODELS
        return MODELS[name][0]().train()
    if kind == "gpt_models":
        from gpt_models import MODELS
        return MODELS[name]().train()
    if kind == "huggingface":
        from make_hf_model import make
        name, _, kwargs = name.partition(":")
        return make(name, **json.loads(kwargs)).train()
    sys.exit(f"ddp_reference.py: --eager {spec}: expected torchvision:NAME, cnn_models:NAME, "
             "gpt_models:NAME or huggingface:NAME:JSON")


def check_draws(draws, failures):
    """Describes the masks fed to PyTorch and fails when they could not show
    a difference: StochasticDepth must have dropped and kept something, and
    its count of ones must be within 6 binomial standard deviations (as
    Var = sum q(1-q) <= the expected ones) of the survival rates' sum."""
    drawn, kept, depth_draws, depth_zeros, expected_ones = draws
    text = f"dropout kept {int(kept)} of {int(drawn)}"
    if depth_draws:
        ones = depth_draws - depth_zeros
        text += f", StochasticDepth dropped {int(depth_zeros)} of {int(depth_draws)}"
        if depth_zeros == 0 or ones == 0:
            failures.append("StochasticDepth's draws were all equal: the comparison "
                            "cannot tell whether dpc applies them")
        if abs(ones - expected_ones) > 6 * np.sqrt(max(expected_ones, 1.0)):
            failures.append(f"StochasticDepth kept {int(ones)} of {int(depth_draws)}, "
                            f"expected {expected_ones:.1f}")
    return text


def compare_grad_norms(path, expected, rtol, failures):
    with open(path) as f:
        records = [json.loads(line) for line in f]
    logged = {r["step"]: r["grad_norm"] for r in records if "grad_norm" in r}
    if sorted(logged) != list(range(1, len(expected) + 1)):
        failures.append(f"the metrics file has grad_norm for steps {sorted(logged)}, "
                        f"expected 1..{len(expected)}")
        return
    worst = 0.0
    for step, norm in logged.items():
        ref = expected[step - 1]
        if not np.isfinite(ref) or norm is None or not np.isfinite(norm):
            # Gradients that overflowed (the grad scaler skips the step):
            # inf or NaN on both sides (which of them depends on the order
            # of the sums).
            if np.isfinite(ref) or (norm is not None and np.isfinite(norm)):
                failures.append(f"step {step}: grad_norm {norm} != PyTorch's {ref}")
            continue
        error = abs(norm - ref) / ref
        worst = max(worst, error)
        if error > rtol:
            failures.append(f"step {step}: grad_norm {norm} != PyTorch's {ref} "
                            f"(relative error {error:.3g})")
    print(f"compared {len(logged)} gradient norms (before clipping) with PyTorch's; "
          f"worst relative error {worst:.2e}")


def print_grad_scaler(a, scaler):
    """PyTorch's loss scale of every step, whether the scaler skipped its
    optimizer step, and the scaler's state after the run."""
    for k, (scale, skipped) in enumerate(zip(scaler["loss_scales"], scaler["skipped"]), 1):
        print(f"PyTorch GradScaler step {k}/{a.steps}: loss_scale {scale:.6g}"
              + (", skipped (inf/NaN gradients)" if skipped else ""))
    print(f"PyTorch GradScaler skipped {int(scaler['skipped'].sum())} of {a.steps} steps; "
          f"scale {scaler['scale']:.6g}, growth_tracker {scaler['growth_tracker']} after them")


def compare_grad_scaler(a, prefix, scaler, failures):
    """--grad-scaler: the checkpoint's grad_scaler.scale (float32),
    .growth_tracker and .skipped_steps (int64, shape []) and the
    'loss_scale S' of each step's log line (printed %.6g) against PyTorch's
    GradScaler, exactly."""
    ckpt = read_safetensors(a.checkpoint)
    expected = {
        "grad_scaler.scale": np.array(scaler["scale"], dtype=np.float32),
        "grad_scaler.growth_tracker": np.array(scaler["growth_tracker"], dtype=np.int64),
        "grad_scaler.skipped_steps": np.array(int(scaler["skipped"].sum()), dtype=np.int64)}
    for name, ref in expected.items():
        got = ckpt.get(name)
        if got is None:
            failures.append(f"checkpoint lacks '{name}'")
        elif got.dtype != ref.dtype or got.shape != ref.shape or not np.array_equal(got, ref):
            failures.append(f"'{name}': {got} ({got.dtype}, shape {list(got.shape)}) != "
                            f"torch's {ref} ({ref.dtype}, shape [])")
    logged = read_logged_field(a.log, "loss_scale")
    if sorted(logged) != list(range(1, a.steps + 1)):
        failures.append(f"the log has a loss_scale for {len(logged)} steps, expected 1..{a.steps}")
    for k, text in sorted(logged.items()):
        ref = f"{scaler['loss_scales'][k - 1]:.6g}" if k <= a.steps else "none"
        try:
            same = float(text) == float(ref)
        except ValueError:
            same = False
        if not same:
            failures.append(f"step {k}: loss_scale {text} != torch's {ref}")
    print(f"{prefix}compared the grad scaler (scale {scaler['scale']:.6g}, growth_tracker "
          f"{scaler['growth_tracker']}, {int(scaler['skipped'].sum())} skipped steps) and "
          f"{len(logged)} logged loss scales with PyTorch's GradScaler")
    if a.metrics:
        # The metrics file's loss_scale (unrounded) and skipped of each step.
        with open(a.metrics) as f:
            records = {r["step"]: r for r in map(json.loads, f) if "step" in r}
        for k in range(1, a.steps + 1):
            want = (float(scaler["loss_scales"][k - 1]), bool(scaler["skipped"][k - 1]))
            got = (records.get(k, {}).get("loss_scale"), records.get(k, {}).get("skipped"))
            if got != want:
                failures.append(f"step {k}: the metrics file's loss_scale, skipped {got} != "
                                f"torch's {want}")
        print(f"compared the metrics file's loss_scale and skipped of {a.steps} steps with "
              f"PyTorch's GradScaler")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--world-size", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--local-batch", type=int, required=True)
    p.add_argument("--accumulate", type=int, default=1,
                   help="micro-batches per step (dpc --accumulate)")
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--dampening", type=float, default=0.0)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--nesterov", action="store_true")
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adamw"])
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--param-group", action="append", default=[])
    p.add_argument("--lr-schedule")
    p.add_argument("--clip-grad-norm", type=float)
    p.add_argument("--clip-norm-type", type=float, default=2.0)
    p.add_argument("--clip-grad-value", type=float)
    p.add_argument("--rtol", type=float, default=1e-5)
    # A float64 model (model.double()) trained by dpc in float64 is compared
    # with PyTorch DDP's float64 training.
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--atol", type=float, default=1e-7)
    # The ill-conditioned criterion (BatchNorm over few values): compare with
    # a float64 run of the same DDP training instead of rtol (see
    # compare_float64); the value is the allowed multiple.
    p.add_argument("--float64-multiple", type=float)
    p.add_argument("--float64-floor", type=float, default=1e-6)
    # dpc-run's --metrics file (with --log-every 1): its grad_norm of every
    # step against the norm of PyTorch's averaged gradients, to rtol.
    p.add_argument("--metrics")
    p.add_argument("--also", nargs=2, action="append", default=[],
                   metavar=("LOG", "CHECKPOINT"))
    p.add_argument("--dpc-masks", type=int, metavar="SEED")
    p.add_argument("--eager", metavar="SPEC")
    # DDP's gradient compression (dpc --grad-comm): fp16_compress_hook or
    # bf16_compress_hook, as compress_hook runs them.
    p.add_argument("--comm-hook", choices=["fp16", "bf16"])
    # fp16: PyTorch 2 only (%torch2-python).
    p.add_argument("--autocast", choices=["bf16", "fp16"])
    # torch's own bfloat16 (float16) CPU kernels instead of Float32Opmath
    # (for measuring how far they are; see Float32Opmath).
    p.add_argument("--torch-bf16-kernels", "--torch-lp-kernels", dest="torch_bf16_kernels",
                   action="store_true")
    # compare_autocast's criterion, for bf16 and fp16 alike (--lp-*: the
    # same flags, by a name that says so).
    p.add_argument("--bf16-rtol", "--lp-rtol", dest="bf16_rtol", type=float, default=2e-2)
    p.add_argument("--bf16-fraction", "--lp-fraction", dest="bf16_fraction", type=float,
                   default=0.25)
    # Dynamic loss scaling: torch.amp.GradScaler("cpu", ...) with these
    # (its defaults); PyTorch 2 only.
    p.add_argument("--grad-scaler", action="store_true")
    p.add_argument("--init-scale", type=float, default=65536.0)
    p.add_argument("--growth-factor", type=float, default=2.0)
    p.add_argument("--backoff-factor", type=float, default=0.5)
    p.add_argument("--growth-interval", type=int, default=2000)
    p.add_argument("--loss-rtol", type=float)
    p.add_argument("--loss-window", type=int)
    p.add_argument("--loss-window-rtol", type=float, default=0.02)
    a = p.parse_args()
    if (a.dpc_masks is None) != (a.eager is None):
        sys.exit("ddp_reference.py: --dpc-masks and --eager go together")
    if not dist.is_gloo_available():
        sys.exit("ddp_reference.py: this PyTorch has no gloo backend")
    if a.autocast == "fp16" and TORCH_MAJOR < 2:
        sys.exit(f"ddp_reference.py: --autocast fp16 needs PyTorch 2 (%torch2-python); "
                 f"torch {torch.__version__} has no float16 autocast on the CPU")
    if a.grad_scaler and not hasattr(torch.amp, "GradScaler"):
        sys.exit(f"ddp_reference.py: --grad-scaler needs PyTorch 2 (%torch2-python); "
                 f"torch {torch.__version__} has no torch.amp.GradScaler for the CPU")

    dtypes = [getattr(torch, a.dtype)] + ([torch.float64] if a.float64_multiple is not None else [])
    if a.autocast:
        dtypes = [f"autocast-{a.autocast}", torch.float32]
    results = run_ddp(a, dtypes)
    expected, losses, clipped, grad_norms, draws, scaler = results[0]
    a.fp32_reference = results[1][0] if a.autocast else None
    a.fp32_losses = results[1][1] if a.autocast else None
    f64 = losses64 = None
    if a.float64_multiple is not None:
        f64, losses64 = results[1][:2]
    if a.grad_scaler:
        print_grad_scaler(a, scaler)
    failures = []
    if a.dpc_masks is not None:
        print(f"fed PyTorch dpc's masks (seed {a.dpc_masks}): "
              f"{check_draws(draws, failures)}")
    # The first run (--log, --checkpoint, --metrics) and each --also run
    # against the one reference.
    runs = [(a.log, a.checkpoint, a.metrics, "")]
    runs += [(log, ckpt, None, f"{os.path.basename(log)}: ") for log, ckpt in a.also]
    for log, checkpoint, metrics, prefix in runs:
        run = argparse.Namespace(**vars(a))
        run.log, run.checkpoint, run.metrics = log, checkpoint, metrics
        run_failures = []
        compare_run(run, prefix, expected, losses, clipped, grad_norms, f64, losses64,
                    run_failures)
        if a.grad_scaler:
            compare_grad_scaler(run, prefix, scaler, run_failures)
        failures += [prefix + f_ for f_ in run_failures]
    for f_ in failures:
        print("FAIL:", f_)
    sys.exit(1 if failures else 0)


def compare_run(a, prefix, expected, losses, clipped, grad_norms, f64, losses64, failures):
    """Compares one dpc run (a.log, a.checkpoint, a.metrics) with the
    reference's float32 state `expected` and `losses` (and, for the float64
    criterion, `f64` and `losses64`); prints its verdict after `prefix`."""
    ckpt = read_safetensors(a.checkpoint)
    if f64 is not None:
        counts, verdict = check_float64(a, ckpt, expected, f64, losses, losses64, failures)
        print(f"{prefix}compared {counts} with PyTorch DDP on {a.world_size} ranks in float64: "
              f"{verdict}")
        return
    if a.loss_window:
        # Long runs: the curve only (the tensors are far apart by then, see
        # compare_loss_curve).
        check_step_counter(ckpt, a.steps, failures)
        compare_loss_curve(a, losses, failures)
        return
    if a.comm_hook is not None:
        worst = compare_compressed(a, expected, ckpt, failures)
    elif a.autocast is not None:
        worst = compare_autocast(a, expected, a.fp32_reference, ckpt, failures)
    else:
        worst, _ = compare_tensors(expected, ckpt, a.rtol, a.atol, failures)
    check_step_counter(ckpt, a.steps, failures)
    loss_rtol = a.loss_rtol if a.loss_rtol is not None else a.rtol
    logged, worst_loss = compare_logged_losses(a.log, losses, a.steps, loss_rtol, failures)

    print(f"{prefix}compared {len(expected)} tensors and {logged} losses with PyTorch DDP on "
          f"{a.world_size} ranks; worst normwise relative error {worst:.2e}, "
          f"losses {worst_loss:.2e} (rtol {loss_rtol:g})")
    if a.metrics:
        compare_grad_norms(a.metrics, grad_norms, a.rtol, failures)
    if a.clip_grad_norm is not None or a.clip_grad_value is not None:
        print(f"clipping changed the gradients in {clipped} of {a.steps} steps")


if __name__ == "__main__":
    main()
