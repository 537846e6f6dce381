"""Trains a model with real PyTorch DDP and compares dpc's results with it.

usage: ddp_reference.py DIR --world-size N --log RUN.log
           --checkpoint OUT.safetensors --steps K --local-batch B
           --lr ... [--optimizer sgd|adamw] [--momentum --dampening
           --weight-decay --nesterov] [--eps 1e-8] [--rtol 1e-5] [--atol 1e-7]
           [--param-group 'PATTERN:lr=X,weight_decay=Y']...
           [--lr-schedule SPEC] [--clip-grad-norm MAX [--clip-norm-type P]]
           [--clip-grad-value V]

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
checkpoint's 'optimizer.param_groups.<g>.lr' must then equal torch's
param_groups' lr after the run (when every group has parameters).
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
  (plus the 5e-7 that printing with 6 decimals can round).
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_against_torch import (  # noqa: E402
    check_step_counter, compare_logged_losses, compare_tensors, read_logged_losses,
    read_safetensors)
from torch_recipe import lr_scheduler, param_groups  # noqa: E402


def train(rank, a, tmp, dtype=torch.float32):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{tmp}/rendezvous",
                            rank=rank, world_size=a.world_size)
    model = torch.jit.load(f"{a.dir}/model.pt")
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
    x = torch.from_numpy(np.load(f"{a.dir}/x.npy"))
    if x.is_floating_point():
        x = x.to(dtype)
    y = torch.from_numpy(np.load(f"{a.dir}/y.npy"))
    global_batch = a.world_size * a.local_batch
    batches = x.shape[0] // global_batch
    losses = []
    clipped = 0  # steps in which clipping changed a gradient
    for step in range(a.steps):
        begin = (step % batches) * global_batch + rank * a.local_batch
        xb, yb = x[begin:begin + a.local_batch], y[begin:begin + a.local_batch]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(ddp(xb), yb)
        loss.backward()
        if a.clip_grad_norm is not None:
            total = torch.nn.utils.clip_grad_norm_(params, a.clip_grad_norm,
                                                   norm_type=a.clip_norm_type)
            clipped += int(total.item() > a.clip_grad_norm)
        if a.clip_grad_value is not None:
            clipped += int(any(p.grad.abs().max().item() > a.clip_grad_value
                               for p in params))
            torch.nn.utils.clip_grad_value_(params, a.clip_grad_value)
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())

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
    np.savez(f"{tmp}/{dtype_name(dtype)}-rank{rank}.npz", losses=np.array(losses),
             clipped=np.array(clipped), **state)
    dist.destroy_process_group()


def dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def run_ddp(a, dtype):
    """Rank 0's final state and the losses averaged over ranks."""
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(train, args=(a, tmp, dtype), nprocs=a.world_size)
        ranks = [dict(np.load(f"{tmp}/{dtype_name(dtype)}-rank{r}.npz"))
                 for r in range(a.world_size)]
    losses = np.mean([r.pop("losses") for r in ranks], axis=0)
    clipped = int(ranks[0].pop("clipped"))
    return ranks[0], losses, clipped


def compare_float64(ckpt, f32, f64, multiple, floor, failures):
    """The ill-conditioned criterion: for every tensor, dpc's normwise
    relative distance to PyTorch float64 must be within `multiple` times
    PyTorch float32's own distance to float64, the latter floored at `floor`
    (a few float32 ulps, so tensors that float32 happens to get almost exact
    are not held to zero). Returns the worst ratio and its tensor."""
    worst, worst_name = 0.0, ""
    for name, ref in sorted(f64.items()):
        if name not in ckpt:
            failures.append(f"checkpoint lacks '{name}'")
            continue
        if ref.dtype.kind == "i":
            if not np.array_equal(ckpt[name], ref):
                failures.append(f"'{name}': {ckpt[name]} != torch's {ref}")
            continue
        scale = max(float(np.abs(ref).max()), 1e-30)
        dpc_err = float(np.abs(ckpt[name].astype(np.float64) - ref).max()) / scale
        torch_err = float(np.abs(f32[name].astype(np.float64) - ref).max()) / scale
        allowed = multiple * max(torch_err, floor)
        ratio = dpc_err / max(torch_err, floor)
        if ratio > worst:
            worst, worst_name = ratio, name
        if dpc_err > allowed:
            failures.append(f"'{name}': dpc is {dpc_err:.3g} from float64, PyTorch float32 "
                            f"{torch_err:.3g}; allowed {allowed:.3g}")
    return worst, worst_name


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--world-size", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--local-batch", type=int, required=True)
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
    p.add_argument("--atol", type=float, default=1e-7)
    # The ill-conditioned criterion (BatchNorm over few values): compare with
    # a float64 run of the same DDP training instead of rtol (see
    # compare_float64); the value is the allowed multiple.
    p.add_argument("--float64-multiple", type=float)
    p.add_argument("--float64-floor", type=float, default=1e-6)
    a = p.parse_args()
    if not dist.is_gloo_available():
        sys.exit("ddp_reference.py: this PyTorch has no gloo backend")

    expected, losses, clipped = run_ddp(a, torch.float32)
    failures = []
    ckpt = read_safetensors(a.checkpoint)
    if a.float64_multiple is not None:
        f64, losses64, _ = run_ddp(a, torch.float64)
        worst, name = compare_float64(ckpt, expected, f64, a.float64_multiple,
                                      a.float64_floor, failures)
        logged = read_logged_losses(a.log)
        if len(logged) != a.steps:
            failures.append(f"log has {len(logged)} loss lines, expected {a.steps}")
        for k, got in sorted(logged.items()):
            # The same criterion per step's loss, plus the 5e-7 that
            # printing with 6 decimals can round.
            ref, f32_err = losses64[k - 1], abs(losses[k - 1] - losses64[k - 1])
            allowed = a.float64_multiple * max(f32_err, a.float64_floor * abs(ref)) + 5e-7
            if abs(got - ref) > allowed:
                failures.append(f"step {k}: loss {got} is {abs(got - ref):.3g} from float64's "
                                f"{ref:.7f}; allowed {allowed:.3g}")
        check_step_counter(ckpt, a.steps, failures)
        print(f"compared {len(f64)} tensors and {len(logged)} losses with PyTorch DDP on "
              f"{a.world_size} ranks in float64: dpc's distance is at most {worst:.2f}x "
              f"PyTorch float32's ({name}; allowed {a.float64_multiple:g}x, floor "
              f"{a.float64_floor:g})")
        for f_ in failures:
            print("FAIL:", f_)
        sys.exit(1 if failures else 0)
    worst, _ = compare_tensors(expected, ckpt, a.rtol, a.atol, failures)
    check_step_counter(ckpt, a.steps, failures)
    logged, worst_loss = compare_logged_losses(a.log, losses, a.steps, a.rtol, failures)

    print(f"compared {len(expected)} tensors and {logged} losses with PyTorch DDP on "
          f"{a.world_size} ranks; worst normwise relative error {worst:.2e}, "
          f"losses {worst_loss:.2e} (rtol {a.rtol:g})")
    if a.clip_grad_norm is not None or a.clip_grad_value is not None:
        print(f"clipping changed the gradients in {clipped} of {a.steps} steps")
    for f_ in failures:
        print("FAIL:", f_)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
