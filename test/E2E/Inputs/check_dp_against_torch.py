"""Checks a --mode dp training run against PyTorch, two ways.

usage: check_dp_against_torch.py DIR --log RUN.log --checkpoint OUT.safetensors
           --steps K --batch B --devices N --loss cross_entropy --lr ...
           [--optimizer sgd|adam|adamw] [--momentum --dampening --weight-decay
           --nesterov | --betas B1,B2 --eps E] [--rtol 1e-5]
       check_dp_against_torch.py --same A.safetensors B.safetensors [--rtol R]

References, both trained from DIR/model.pt on consecutive batches of B
samples of DIR/x.npy (or the --inputs, in order) and DIR/y.npy with
torch.optim.SGD (or Adam, AdamW):

- whole batch: the module run on the whole batch in one process, the loss
  F.cross_entropy / F.mse_loss with reduction 'mean';
- DataParallel: nn.DataParallel's semantics emulated on the CPU, where
  DataParallel itself needs CUDA devices: the batch split with torch.chunk
  into at most N chunks (scatter), one copy of the module per chunk holding
  copies of the parameters (replicate: Broadcast), each copy run on its
  chunk (parallel_apply), the outputs concatenated (gather) and the loss
  computed on them with the whole batch's labels; backward then gives each
  copy its parameters' gradients, which are summed in replica order,
  ((g0 + g1) + g2) + ..., into the module's (Broadcast's adjoint,
  ReduceAddCoalesced), and the optimizer steps the module. Buffers are
  copied to every replica too; replica 0's updates (BatchNorm's running
  statistics) land in the module, the others' are dropped, since
  DataParallel's replica 0 holds the module's own buffers.

Models with batch statistics (BatchNorm) normalize each replica's chunk by
its own statistics, so only the DataParallel reference applies to them
(--reference dataparallel).

Every parameter, buffer and optimizer state tensor in the checkpoint, and every
loss in the log, must be close to both: |dpc - torch| <= rtol * max|torch| +
atol per tensor (normwise relative error in the max norm), losses to rtol
plus the 5e-7 that printing with 6 decimals can round.

With --same, the two checkpoints must hold the same tensors, equal to rtol
(rtol 0: bit for bit).
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_against_torch import read_safetensors  # noqa: E402


def loss_fn(kind, out, y):
    return F.cross_entropy(out, y) if kind == "cross_entropy" else F.mse_loss(out, y)


def make_optimizer(a, params):
    if a.optimizer == "sgd":
        return torch.optim.SGD(params, lr=a.lr, momentum=a.momentum, dampening=a.dampening,
                               weight_decay=a.weight_decay or 0.0, nesterov=a.nesterov)
    betas = tuple(float(b) for b in a.betas.split(","))
    adam = torch.optim.Adam if a.optimizer == "adam" else torch.optim.AdamW
    weight_decay = a.weight_decay if a.weight_decay is not None else (
        0.0 if a.optimizer == "adam" else 1e-2)
    return adam(params, lr=a.lr, betas=betas, eps=a.eps, weight_decay=weight_decay)


def batches(a, xs, y):
    count = y.shape[0] // a.batch
    for step in range(a.steps):
        begin = (step % count) * a.batch
        yield [x[begin:begin + a.batch] for x in xs], y[begin:begin + a.batch]


def train_whole_batch(a, x, y):
    model = torch.jit.load(f"{a.dir}/model.pt")
    # No .train(): every module runs in the mode it was saved in, as dpc
    # compiles it (a module the model put in .eval() stays so).
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(a, params)
    losses = []
    for xb, yb in batches(a, x, y):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(a.loss, model(*xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, opt, losses


def train_data_parallel(a, x, y):
    model = torch.jit.load(f"{a.dir}/model.pt")
    # No .train(): every module runs in the mode it was saved in, as dpc
    # compiles it (a module the model put in .eval() stays so).
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(a, params)
    # One module per possible replica; its parameters are overwritten with
    # the module's before every step (replicate).
    replicas = [torch.jit.load(f"{a.dir}/model.pt") for _ in range(a.devices)]
    losses = []
    for xb, yb in batches(a, x, y):
        # scatter: every input in the same chunks
        chunks = list(zip(*[torch.chunk(x, a.devices, dim=0) for x in xb]))
        outputs, copies = [], []
        for replica, chunk in zip(replicas, chunks):
            # No .train(): every module runs in the mode it was saved in, as dpc
            # compiles it (a module the model put in .eval() stays so).
            mine = [p for p in replica.parameters() if p.requires_grad]
            with torch.no_grad():
                for dst, src in zip(mine, params):
                    dst.copy_(src)
                for dst, src in zip(replica.buffers(), model.buffers()):
                    dst.copy_(src)
            for p in mine:
                p.grad = None
            outputs.append(replica(*chunk))  # parallel_apply
            copies.append(mine)
        with torch.no_grad():  # replica 0's buffers are the module's
            for dst, src in zip(model.buffers(), replicas[0].buffers()):
                dst.copy_(src)
        out = torch.cat(outputs, dim=0)  # gather
        loss = loss_fn(a.loss, out, yb)
        loss.backward()
        opt.zero_grad(set_to_none=True)
        for i, p in enumerate(params):  # reduce_add, in replica order
            grads = [c[i].grad for c in copies if c[i].grad is not None]
            if not grads:
                continue
            total = grads[0].clone()
            for g in grads[1:]:
                total.add_(g)
            p.grad = total
        opt.step()
        losses.append(loss.item())
    return model, opt, losses


def expected_tensors(model, opt):
    params = [p for p in model.parameters() if p.requires_grad]
    expected = {name: t.detach().numpy() for name, t in model.named_parameters()}
    expected.update({name: t.numpy() for name, t in model.named_buffers()})
    names = {id(p): n for n, p in model.named_parameters()}
    for p in params:
        state = opt.state.get(p, {})
        for key in ["momentum_buffer", "exp_avg", "exp_avg_sq"]:
            if state.get(key) is not None:
                expected[f"optimizer.{names[id(p)]}.{key}"] = state[key].numpy()
    return expected


def compare(expected, ckpt, rtol, atol, failures, what):
    worst = 0.0
    for name, ref in sorted(expected.items()):
        if name not in ckpt:
            failures.append(f"{what}: checkpoint lacks '{name}'")
            continue
        got = ckpt[name]
        if got.shape != ref.shape:
            failures.append(f"{what}: '{name}': shape {got.shape} != {ref.shape}")
            continue
        scale = float(np.abs(ref).max()) if ref.size else 0.0
        err = float(np.abs(got.astype(np.float64) - ref).max()) if ref.size else 0.0
        worst = max(worst, err / scale if scale > 0 else err)
        if err > rtol * scale + atol:
            failures.append(f"{what}: '{name}': max |dpc - torch| = {err:.3g} exceeds "
                            f"{rtol:g} * {scale:.3g} + {atol:g}")
    return worst


def compare_losses(logged, losses, rtol, failures, what):
    worst = 0.0
    for k, got in sorted(logged.items()):
        ref = losses[k - 1]
        worst = max(worst, abs(got - ref) / max(abs(ref), 1e-30))
        if abs(got - ref) > rtol * abs(ref) + 5e-7:
            failures.append(f"{what}: step {k}: loss {got} != {ref:.7f}")
    return worst


def same(a):
    left, right = read_safetensors(a.same[0]), read_safetensors(a.same[1])
    failures = []
    if sorted(left) != sorted(right):
        failures.append(f"different tensors: {sorted(left)} vs {sorted(right)}")
    worst = 0.0
    for name in sorted(set(left) & set(right)):
        l, r = left[name].astype(np.float64), right[name].astype(np.float64)
        if l.shape != r.shape:
            failures.append(f"'{name}': shapes {l.shape} and {r.shape}")
            continue
        scale = float(np.abs(r).max()) if r.size else 0.0
        err = float(np.abs(l - r).max()) if r.size else 0.0
        worst = max(worst, err / scale if scale > 0 else err)
        if err > a.rtol * scale:
            failures.append(f"'{name}': max difference {err:.3g} exceeds {a.rtol:g} * {scale:.3g}")
    print(f"compared {len(left)} tensors; worst normwise relative difference {worst:.2e} "
          f"(rtol {a.rtol:g})")
    return failures


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir", nargs="?")
    p.add_argument("--same", nargs=2, metavar="CHECKPOINT")
    p.add_argument("--inputs", default="x", help="input names, comma-separated")
    p.add_argument("--log")
    p.add_argument("--checkpoint")
    p.add_argument("--steps", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--devices", type=int)
    p.add_argument("--loss", default="cross_entropy")
    p.add_argument("--lr", type=float)
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--dampening", type=float, default=0.0)
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default="sgd")
    p.add_argument("--betas", default="0.9,0.999")
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--weight-decay", type=float, default=None)
    p.add_argument("--nesterov", action="store_true")
    p.add_argument("--reference", choices=["both", "dataparallel"], default="both")
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--atol", type=float, default=1e-7)
    a = p.parse_args()
    if a.same:
        failures = same(a)
    else:
        torch.set_num_threads(1)
        x = [torch.from_numpy(np.load(f"{a.dir}/{name}.npy")) for name in a.inputs.split(",")]
        y = torch.from_numpy(np.load(f"{a.dir}/y.npy"))
        ckpt = read_safetensors(a.checkpoint)
        logged = {}
        with open(a.log) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 4 and fields[0] == "step" and fields[2] == "loss":
                    logged[int(fields[1].split("/")[0])] = float(fields[3])
        failures = []
        if len(logged) != a.steps:
            failures.append(f"log has {len(logged)} loss lines, expected {a.steps}")
        step = ckpt.get("optimizer.step")
        if step is None or int(step.reshape(-1)[0]) != a.steps:
            failures.append(f"checkpoint step counter is {step}, expected {a.steps}")
        report = []
        references = [("whole batch", train_whole_batch),
                      ("DataParallel", train_data_parallel)]
        if a.reference == "dataparallel":
            references = references[1:]
        for what, train in references:
            model, opt, losses = train(a, x, y)
            expected = expected_tensors(model, opt)
            worst = compare(expected, ckpt, a.rtol, a.atol, failures, what)
            worst_loss = compare_losses(logged, losses, a.rtol, failures, what)
            report.append(f"{what}: {worst:.2e} (losses {worst_loss:.2e})")
        chunks = len(torch.chunk(y[:a.batch], a.devices))
        print(f"compared {len(expected)} tensors and {len(logged)} losses with PyTorch, "
              f"{chunks} replicas; worst normwise relative error " + ", ".join(report) +
              f" (rtol {a.rtol:g})")
    for f_ in failures:
        print("FAIL:", f_)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
