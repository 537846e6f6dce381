"""Trains a GPT test model (or an nn.TransformerEncoder classifier) with
dropout in PyTorch, fed dpc's masks, and compares dpc's results with it.

usage: check_dropout.py DIR --model gpt_dropout|attention_encoder --log RUN.log
           --checkpoint OUT.safetensors --steps K --local-batch B
           [--world-size R] [--accumulate M] [--seed S] --lr ...
           [--momentum ...] [--rtol 1e-5]

The reference is an eager copy of the model (gpt_models.MODELS[--model],
with DIR/model.pt's weights) whose nn.Dropout modules multiply by the masks
dpc draws (dropout_reference.py computes them from the generator's
specification, independently of dpc's code). For attention_encoder
(make_attention_model.py encoder, --dropout P, data DIR/x.npy, DIR/y.npy)
torch.nn.functional.dropout itself is replaced, since
MultiheadAttention's dropout of its attention weights is a call of it
inside F.multi_head_attention_forward. Step k uses the k-th global
batch of R*M*B consecutive sequences; rank r (or, under --mode dp, replica
r) takes its r-th contiguous slice of M*B, split into M micro-batches, each
with its own masks (counter: step k, rank r, micro-batch m, the call's
site). Each micro-batch's mean cross-entropy is divided by R*M before
backward, which sums to DDP's averaged gradient (and to DataParallel's on
equal chunks); then torch.optim.SGD steps.

Checks (as check_against_torch.py): every parameter, buffer and momentum
buffer in the checkpoint within rtol * max|torch| + atol of PyTorch's,
elementwise; the step counter is K; each logged loss within rtol (plus
printing's 5e-7). And, so that the comparison cannot pass vacuously, the
masks dropped elements at the model's rate: the kept fraction is within 6
binomial standard deviations of 1 - p.
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
from dropout_reference import with_dpc_functional_masks, with_dpc_masks  # noqa: E402
from gpt_models import MODELS  # noqa: E402
from make_attention_model import EncoderClassifier  # noqa: E402

# Classifiers of make_attention_model.py on DIR/x.npy and DIR/y.npy, built
# from torch's own layers: their dropout calls (MultiheadAttention's inside
# F.multi_head_attention_forward too) get dpc's masks through
# torch.nn.functional.dropout, in program order.
ATTENTION_MODELS = {"attention_encoder": EncoderClassifier}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--model", required=True,
                   choices=sorted(MODELS) + sorted(ATTENTION_MODELS))
    p.add_argument("--dropout", type=float, default=0.1,
                   help="the attention models' dropout probability")
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--log", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--local-batch", type=int, required=True)
    p.add_argument("--world-size", type=int, default=1)
    p.add_argument("--accumulate", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--atol", type=float, default=1e-7)
    a = p.parse_args()

    torch.set_num_threads(1)
    scripted = torch.jit.load(f"{a.dir}/model.pt")
    functional = a.model in ATTENTION_MODELS
    if functional:
        model = ATTENTION_MODELS[a.model](a.dropout)
    else:
        model = MODELS[a.model](vocab=a.vocab)
    model.load_state_dict(scripted.state_dict())
    model.train()
    probabilities = {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)}
    if len(probabilities) != 1:
        sys.exit(f"expected one dropout probability, the model has {probabilities}")
    (prob,) = probabilities
    if functional:
        coords = with_dpc_functional_masks(a.seed)
        idx = torch.from_numpy(np.load(f"{a.dir}/x.npy"))
        targets = torch.from_numpy(np.load(f"{a.dir}/y.npy"))
    else:
        coords = with_dpc_masks(model, a.seed)
        idx = torch.from_numpy(np.load(f"{a.dir}/idx.npy"))
        targets = torch.from_numpy(np.load(f"{a.dir}/targets.npy"))
    params = [p_ for p_ in model.parameters() if p_.requires_grad]
    opt = torch.optim.SGD(params, lr=a.lr, momentum=a.momentum)
    R, M, B = a.world_size, a.accumulate, a.local_batch
    G = R * M * B
    batches = idx.shape[0] // G
    losses = []
    for step in range(a.steps):
        begin = (step % batches) * G
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for r in range(R):
            for m in range(M):
                lo = begin + (r * M + m) * B
                coords.start_forward(step, rank=r, micro_batch=m)
                logits = model(idx[lo:lo + B])
                loss = F.cross_entropy(logits, targets[lo:lo + B].reshape(-1)) / (R * M)
                loss.backward()
                total += loss.item()
        opt.step()
        losses.append(total)

    failures = []
    rate = coords.kept / coords.drawn
    sd = np.sqrt(prob * (1 - prob) / coords.drawn)
    if prob > 0 and abs(rate - (1 - prob)) > 6 * sd:
        failures.append(f"kept fraction {rate:.4f} is not 1 - p = {1 - prob}")
    ckpt = read_safetensors(a.checkpoint)
    expected = {name: t.detach().numpy() for name, t in model.named_parameters()}
    expected.update({name: t.numpy() for name, t in model.named_buffers()})
    names = {id(p_): n for n, p_ in model.named_parameters()}
    for p_ in params:
        buf = opt.state.get(p_, {}).get("momentum_buffer")
        if buf is not None:
            expected[f"optimizer.{names[id(p_)]}.momentum_buffer"] = buf.numpy()
    worst, worst_name = compare_tensors(expected, ckpt, a.rtol, a.atol, failures)
    check_step_counter(ckpt, a.steps, failures)
    logged, worst_loss = compare_logged_losses(a.log, losses, a.steps, a.rtol, failures)

    print(f"compared {len(expected)} tensors and {logged} losses with PyTorch fed "
          f"dpc's masks (p={prob}, kept {rate:.4f} of {coords.drawn}); "
          f"worst normwise relative error {worst:.2e} ({worst_name}), "
          f"losses {worst_loss:.2e} (rtol {a.rtol:g}); "
          f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    for f_ in failures:
        print("FAIL:", f_)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
