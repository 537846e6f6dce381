"""Trains a GPT test model in PyTorch and compares dpc's results with it.

usage: check_gpt.py DIR --log RUN.log --checkpoint OUT.safetensors --steps K
           --global-batch G [--loss cross_entropy|none] --lr ... [--momentum
           --weight-decay --nesterov] [--rtol 1e-5]

The reference is DIR/model.pt loaded with torch.jit.load and trained for K
steps with torch.optim.SGD on consecutive global batches of G sequences of
DIR/idx.npy and DIR/targets.npy. With --loss cross_entropy the model returns
logits [G*T, V] and the loss is F.cross_entropy against the targets
flattened to [G*T] (what dpc does with --label y:i64[B,T]); with --loss none
the model is called as model(idx, targets) and returns its loss. Under DDP
every rank's loss is the mean over its own B*T tokens, and the averaged
gradient of equal slices is the gradient of the mean over the global batch,
so one reference serves every world size (no batch statistics here; the
mask buffer never changes).

Checks (as check_against_torch.py): every parameter (a tied weight once,
under its first name), buffer and momentum buffer in the checkpoint is
within rtol * max|torch| + atol of PyTorch's, elementwise; the step counter
is K; each logged loss is within rtol (plus printing's 5e-7) of PyTorch's.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_against_torch import (  # noqa: E402
    check_step_counter, compare_logged_losses, compare_tensors, read_safetensors)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--log", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--global-batch", type=int, required=True)
    p.add_argument("--loss", default="cross_entropy", choices=["cross_entropy", "none"])
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adamw"])
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--nesterov", action="store_true")
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--atol", type=float, default=1e-7)
    a = p.parse_args()

    torch.set_num_threads(1)
    model = torch.jit.load(f"{a.dir}/model.pt")
    # No .train(): every module runs in the mode it was saved in, as dpc
    # compiles it (a module the model put in .eval() stays so).
    idx = torch.from_numpy(np.load(f"{a.dir}/idx.npy"))
    targets = torch.from_numpy(np.load(f"{a.dir}/targets.npy"))
    params = [p_ for p_ in model.parameters() if p_.requires_grad]
    if a.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=a.lr, momentum=a.momentum,
                              weight_decay=a.weight_decay, nesterov=a.nesterov)
        state_names = ["momentum_buffer"]
    else:  # torch.optim.AdamW with its default betas, as dpc's
        opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=a.weight_decay, eps=a.eps)
        state_names = ["exp_avg", "exp_avg_sq"]
    batches = idx.shape[0] // a.global_batch
    losses = []
    for step in range(a.steps):
        begin = (step % batches) * a.global_batch
        xb = idx[begin:begin + a.global_batch]
        yb = targets[begin:begin + a.global_batch]
        opt.zero_grad(set_to_none=True)
        if a.loss == "none":
            loss = model(xb, yb)
        else:
            loss = F.cross_entropy(model(xb), yb.reshape(-1))
        loss.backward()
        opt.step()
        losses.append(loss.item())

    failures = []
    ckpt = read_safetensors(a.checkpoint)
    expected = {name: t.detach().numpy() for name, t in model.named_parameters()}
    expected.update({name: t.numpy() for name, t in model.named_buffers()})
    names = {id(p_): n for n, p_ in model.named_parameters()}
    for p_ in params:
        state = opt.state.get(p_, {})
        for state_name in state_names:
            if state.get(state_name) is not None:
                expected[f"optimizer.{names[id(p_)]}.{state_name}"] = state[state_name].numpy()
    worst, worst_name = compare_tensors(expected, ckpt, a.rtol, a.atol, failures)
    check_step_counter(ckpt, a.steps, failures)
    logged, worst_loss = compare_logged_losses(a.log, losses, a.steps, a.rtol, failures)

    print(f"compared {len(expected)} tensors and {logged} losses with PyTorch; "
          f"worst normwise relative error {worst:.2e} ({worst_name}), "
          f"losses {worst_loss:.2e} (rtol {a.rtol:g}); "
          f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    for f_ in failures:
        print("FAIL:", f_)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
