"""Trains the same model in PyTorch and compares dpc's results with it.

usage: check_against_torch.py DIR --log RUN.log --checkpoint OUT.safetensors
           --steps K --global-batch G --loss cross_entropy|mse|none --lr ...
           [--optimizer sgd|adam|adamw] [--momentum --dampening --nesterov]
           [--betas B1,B2 --eps E] [--weight-decay W]
           [--accumulate M --world-size R] [--rtol 1e-5] [--inputs x,mask]
           [--dtype float64]

The reference is plain PyTorch: the TorchScript module DIR/model.pt loaded
with torch.jit.load, trained for K steps with torch.optim.SGD, Adam or AdamW
(their defaults where a flag is not given, e.g. AdamW's weight_decay 1e-2)
on consecutive global batches of G samples (of DIR/x.npy, or of each input
--inputs names, DIR/NAME.npy, passed to forward in that order), the loss F.cross_entropy /
F.mse_loss with reduction 'mean', or with --loss none the model's own
forward(x, y). A forward that returns a tuple, NamedTuple or dict is
read as dpc reads it: the loss takes its first element, or the one
--loss-output names (an index, or a field or key); the other elements are
not trained on. Language-model logits [B, T, V] with labels [B, T] are
flattened as F.cross_entropy(logits.view(-1, V), y.view(-1)). Under DDP every rank computes the mean loss of its own slice
and the gradients are averaged over ranks, which for equal slices is exactly
the gradient of the mean loss over the global batch, so the same reference
serves every world size.

With --accumulate M (gradient accumulation) the reference is what a PyTorch
DDP user writes: each of the R ranks takes the r-th contiguous slice of the
global batch, splits it into M micro-batches, and runs
`(loss_fn(model(micro_batch)) / M).backward()` on each (under no_sync); the
accumulated gradients are averaged over the ranks (each divided by R, then
summed, as DDP does) before the optimizer step, and the step's loss is the
mean of the micro-batch losses over micro-batches and ranks.

Checks, all of which must hold:
- every parameter, buffer and momentum buffer in the checkpoint is close to
  PyTorch's: |dpc - torch| <= rtol * max|torch| + atol elementwise, where
  the scale is the tensor's largest magnitude (normwise relative error in
  the max norm, so elements near zero are not held to an impossible
  relative bound);
- the checkpoint's step counter is K;
- each loss line 'step k/K  loss L' of the run log matches PyTorch's loss of
  step k to rtol (plus the 5e-7 that printing with 6 decimals can round).
"""
import argparse
import json
import re
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "BOOL": np.bool_}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]])
        tensors[name] = arr.reshape(info["shape"])
    return tensors


def compare_tensors(expected, ckpt, rtol, atol, failures):
    """Checks each expected tensor against the checkpoint's: integer and bool
    tensors exactly (and of the same dtype), floating-point ones to |dpc - torch| <= rtol * max|torch| + atol.
    Appends to `failures`; returns the worst normwise relative error of the
    floating-point tensors and its tensor's name."""
    worst, worst_name = 0.0, ""
    for name, ref in sorted(expected.items()):
        if name not in ckpt:
            failures.append(f"checkpoint lacks '{name}'")
            continue
        got = ckpt[name]
        if got.shape != ref.shape:
            failures.append(f"'{name}': shape {got.shape} != torch's {ref.shape}")
            continue
        if ref.dtype.kind in "ib":
            if got.dtype != ref.dtype or not np.array_equal(got, ref):
                failures.append(f"'{name}': {got} != torch's {ref}")
            continue
        # Infinities and NaNs (a float mask of 0 and -inf) must be where
        # torch has them; the error is over the finite values.
        finite = np.isfinite(ref)
        if not np.array_equal(np.isfinite(got), finite) or not np.array_equal(
                got[~finite], ref[~finite], equal_nan=True):
            failures.append(f"'{name}': its infinities or NaNs differ from torch's")
            continue
        got, ref = got[finite], ref[finite]
        scale = float(np.abs(ref).max()) if ref.size else 0.0
        err = float(np.abs(got.astype(np.float64) - ref).max()) if ref.size else 0.0
        rel = err / scale if scale > 0 else err
        if rel > worst or np.isnan(rel):
            worst, worst_name = rel, name
        if not err <= rtol * scale + atol:
            failures.append(f"'{name}': max |dpc - torch| = {err:.3g} exceeds "
                            f"{rtol:g} * {scale:.3g} + {atol:g}")
    return worst, worst_name


def check_step_counter(ckpt, steps, failures):
    step_tensor = ckpt.get("optimizer.step")
    if step_tensor is None or int(step_tensor.reshape(-1)[0]) != steps:
        failures.append(f"checkpoint step counter is {step_tensor}, expected {steps}")


def read_logged_field(log, name):
    """{k: text} of the field NAME ('loss', 'loss_scale') of the run log's
    'step k/K  loss L  ...' lines."""
    logged = {}
    with open(log) as f:
        for line in f:
            m = re.match(r"step (\d+)/\d+\s.*?\b%s (\S+)" % re.escape(name), line)
            if m:
                logged[int(m.group(1))] = m.group(2)
    return logged


def read_logged_losses(log):
    """{k: loss} of the run log's 'step k/K  loss L' lines."""
    return {k: float(v) for k, v in read_logged_field(log, "loss").items()}


def compare_logged_losses(log, losses, steps, rtol, failures):
    """Checks each 'step k/K  loss L' line of the run log against losses[k-1]
    to rtol (plus the 5e-7 that printing with 6 decimals can round). Returns
    the number of lines and the worst relative error."""
    logged = read_logged_losses(log)
    if len(logged) != steps:
        failures.append(f"log has {len(logged)} loss lines, expected {steps}")
    worst = 0.0
    for k, got in sorted(logged.items()):
        ref = losses[k - 1]
        worst = max(worst, abs(got - ref) / abs(ref))
        if abs(got - ref) > rtol * abs(ref) + 5e-7:
            failures.append(f"step {k}: loss {got} != torch's {ref:.7f}")
    return len(logged), worst


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
        got, own = ckpt[name], f32[name]
        finite = np.isfinite(ref)
        if not np.array_equal(got[~finite], ref[~finite], equal_nan=True):
            failures.append(f"'{name}': its non-finite elements differ from torch's")
            continue
        ref, got, own = ref[finite], got[finite], own[finite]
        if not ref.size:
            continue
        scale = max(float(np.abs(ref).max()), 1e-30)
        dpc_err = float(np.abs(got.astype(np.float64) - ref).max()) / scale
        torch_err = float(np.abs(own.astype(np.float64) - ref).max()) / scale
        allowed = multiple * max(torch_err, floor)
        ratio = dpc_err / max(torch_err, floor)
        if ratio > worst:
            worst, worst_name = ratio, name
        if not dpc_err <= allowed:
            failures.append(f"'{name}': dpc is {dpc_err:.3g} from float64, PyTorch float32 "
                            f"{torch_err:.3g}; allowed {allowed:.3g}")
    return worst, worst_name


def compare_logged_losses_float64(log, losses, losses64, steps, multiple, floor, failures):
    """The float64 criterion for each logged step's loss: dpc's distance to
    PyTorch float64's loss within `multiple` times PyTorch float32's (floored
    at `floor` relative), plus the 5e-7 that printing with 6 decimals can
    round. Returns the number of logged losses."""
    logged = read_logged_losses(log)
    if len(logged) != steps:
        failures.append(f"log has {len(logged)} loss lines, expected {steps}")
    for k, got in sorted(logged.items()):
        ref, f32_err = losses64[k - 1], abs(losses[k - 1] - losses64[k - 1])
        allowed = multiple * max(f32_err, floor * abs(ref)) + 5e-7
        if abs(got - ref) > allowed:
            failures.append(f"step {k}: loss {got} is {abs(got - ref):.3g} from float64's "
                            f"{ref:.7f}; allowed {allowed:.3g}")
    return len(logged)


def check_float64(a, ckpt, f32, f64, losses, losses64, failures):
    """The float64 criterion for a whole run (tensors, logged losses, step
    counter), with the --float64-multiple and --float64-floor of `a`.
    Returns the verdict's text: the counts compared and the worst ratio."""
    worst, name = compare_float64(ckpt, f32, f64, a.float64_multiple, a.float64_floor,
                                  failures)
    logged = compare_logged_losses_float64(a.log, losses, losses64, a.steps,
                                           a.float64_multiple, a.float64_floor, failures)
    check_step_counter(ckpt, a.steps, failures)
    return (f"{len(f64)} tensors and {logged} losses", f"dpc's distance is at most "
            f"{worst:.2f}x PyTorch float32's ({name}; allowed {a.float64_multiple:g}x, "
            f"floor {a.float64_floor:g})")


def train(a, dtype):
    """Trains the reference in `dtype`; returns its final state (parameters,
    buffers and optimizer state under the checkpoint's names) and the loss
    of every step."""
    torch.set_num_threads(1)
    if a.unoptimized:
        torch._C._get_graph_executor_optimize(False)
    model = torch.jit.load(f"{a.dir}/model.pt")
    model.to(dtype)
    # No .train(): every module runs in the mode it was saved in, as dpc
    # compiles it (a module the model put in .eval() stays so).
    # The forward's inputs, in order (--inputs; DIR/NAME.npy each).
    xs = [torch.from_numpy(np.load(f"{a.dir}/{name}.npy")) for name in a.inputs.split(",")]
    xs = [t.to(dtype) if t.is_floating_point() else t for t in xs]
    y = torch.from_numpy(np.load(f"{a.dir}/y.npy"))
    if y.is_floating_point():
        y = y.to(dtype)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = {} if a.weight_decay is None else {"weight_decay": a.weight_decay}
    if a.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=a.lr, momentum=a.momentum, dampening=a.dampening,
                              nesterov=a.nesterov, **decay)
        state_names = ["momentum_buffer"]
    else:
        betas = tuple(float(b) for b in a.betas.split(","))
        adam = torch.optim.Adam if a.optimizer == "adam" else torch.optim.AdamW
        opt = adam(params, lr=a.lr, betas=betas, eps=a.eps, **decay)
        state_names = ["exp_avg", "exp_avg_sq"]

    def pick(out):
        """The element of a tuple or dict output that the loss reads."""
        if isinstance(out, dict):
            keys = list(out)
            key = a.loss_output if a.loss_output is not None else keys[0]
            return out[keys[int(key)]] if key.isdigit() else out[key]
        if isinstance(out, tuple):
            key = a.loss_output if a.loss_output is not None else "0"
            return out[int(key)] if key.isdigit() else getattr(out, key)
        return out

    def take(index):
        """Samples `index` (a slice or index tensor) of every input."""
        return [t[index] for t in xs]

    def loss_of(xb, yb):
        if a.loss == "none":
            return pick(model(*xb, yb))
        out = pick(model(*xb))
        if a.loss == "mse":
            return F.mse_loss(out, yb)
        if out.dim() == 3 and yb.dim() == 2:  # [B, T, V] logits, class dim last
            return F.cross_entropy(out.reshape(-1, out.shape[-1]), yb.reshape(-1))
        return F.cross_entropy(out, yb)

    ranks, micro = a.world_size, a.accumulate
    if a.global_batch % (ranks * micro):
        sys.exit(f"--global-batch {a.global_batch} is not a multiple of "
                 f"--world-size {ranks} x --accumulate {micro}")
    local = a.global_batch // (ranks * micro)
    samples = xs[0].shape[0]
    batches = samples // a.global_batch
    losses = []

    def shuffled_batch(step):
        from torch.utils.data import DataLoader, DistributedSampler
        epoch, k = divmod(step, batches)
        indices = []
        for r in range(ranks):
            sampler = DistributedSampler(range(samples), num_replicas=ranks, rank=r,
                                         shuffle=True, seed=a.shuffle_seed, drop_last=True)
            sampler.set_epoch(epoch)
            loader = DataLoader(range(samples), batch_size=local * micro,
                                sampler=sampler, drop_last=True)
            indices += list(loader)[k].tolist()
        return torch.tensor(indices)

    for step in range(a.steps):
        begin = (step % batches) * a.global_batch
        if micro == 1 and a.shuffle_seed is not None:
            idx = shuffled_batch(step)
            xb, yb = take(idx), y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_of(xb, yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            continue
        if a.shuffle_seed is not None:
            sys.exit("--shuffle-seed is implemented for --accumulate 1 only")
        if micro == 1:
            xb, yb = take(slice(begin, begin + a.global_batch)), y[begin:begin + a.global_batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_of(xb, yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            continue
        # DDP with no_sync over the micro-batches of each rank's slice.
        rank_grads, rank_losses = [], []
        for r in range(ranks):
            opt.zero_grad(set_to_none=True)
            total = 0.0
            for k in range(micro):
                lo = begin + (r * micro + k) * local
                loss = loss_of(take(slice(lo, lo + local)), y[lo:lo + local])
                (loss / micro).backward()
                total += loss.item()
            rank_grads.append([p_.grad for p_ in params])
            rank_losses.append(total / micro)
        for i, p_ in enumerate(params):
            grads = [g[i] for g in rank_grads]
            if grads[0] is None:
                p_.grad = None
                continue
            avg = grads[0] / ranks
            for g in grads[1:]:
                avg = avg + g / ranks
            p_.grad = avg
        opt.step()
        losses.append(sum(rank_losses) / ranks)

    expected = {name: t.detach().numpy() for name, t in model.named_parameters()}
    expected.update({name: t.numpy() for name, t in model.named_buffers()})
    names = {id(p): n for n, p in model.named_parameters()}
    for p_ in params:
        state = opt.state.get(p_, {})
        for key in state_names:
            if state.get(key) is not None:
                expected[f"optimizer.{names[id(p_)]}.{key}"] = state[key].numpy()
    return expected, losses


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--log", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--inputs", default="x", help="the forward's inputs, DIR/NAME.npy each")
    p.add_argument("--global-batch", type=int, required=True)
    p.add_argument("--loss", default="cross_entropy", choices=["cross_entropy", "mse", "none"])
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"])
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--dampening", type=float, default=0.0)
    # None: the optimizer's own default (0, AdamW's 1e-2).
    p.add_argument("--weight-decay", type=float, default=None)
    p.add_argument("--nesterov", action="store_true")
    p.add_argument("--betas", default="0.9,0.999")
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--accumulate", type=int, default=1)
    p.add_argument("--world-size", type=int, default=1)
    p.add_argument("--loss-output", default=None,
                   help="the element of a tuple or dict output the loss reads")
    # TorchScript's optimizing executor differentiates a forward whose
    # outputs the loss reads only in part (an unused auxiliary head) into
    # zero gradients from the second call on, where eager PyTorch leaves
    # them None (no optimizer state, no update); the reference then runs
    # the module unoptimized, as eager PyTorch would.
    p.add_argument("--unoptimized", action="store_true")
    p.add_argument("--rtol", type=float, default=1e-5)
    # A float64 model (model.double()) trained by dpc in float64 is compared
    # with PyTorch's float64 training.
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--atol", type=float, default=1e-7)
    # dpc-run --shuffle --seed S: each rank's batches come from a DataLoader
    # over torch.utils.data.DistributedSampler(shuffle=True, seed=S,
    # drop_last=True), set_epoch(epoch) each epoch; the global batch is the
    # ranks' batches in rank order (their mean loss is DDP's).
    p.add_argument("--shuffle-seed", type=int, default=None)
    # The ill-conditioned criterion (see compare_float64): the value is the
    # allowed multiple of PyTorch float32's own distance to float64.
    p.add_argument("--float64-multiple", type=float)
    p.add_argument("--float64-floor", type=float, default=1e-6)
    a = p.parse_args()

    expected, losses = train(a, getattr(torch, a.dtype))

    failures = []
    ckpt = read_safetensors(a.checkpoint)
    if a.float64_multiple is not None:
        f64, losses64 = train(a, torch.float64)
        counts, verdict = check_float64(a, ckpt, expected, f64, losses, losses64, failures)
        print(f"compared {counts} with PyTorch in float64: {verdict}")
        for f_ in failures:
            print("FAIL:", f_)
        sys.exit(1 if failures else 0)
    worst, worst_name = compare_tensors(expected, ckpt, a.rtol, a.atol, failures)
    check_step_counter(ckpt, a.steps, failures)
    logged, _ = compare_logged_losses(a.log, losses, a.steps, a.rtol, failures)

    print(f"compared {len(expected)} tensors and {logged} losses with PyTorch; "
          f"worst normwise relative error {worst:.2e} (rtol {a.rtol:g}; {worst_name})")
    for f_ in failures:
        print("FAIL:", f_)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
