"""Writes a model whose forward computes its own loss (for --loss none).

usage: make_loss_model.py {script,trace} OUT_DIR --batch B --samples N
Writes OUT_DIR/model.pt, whose forward(x, y) returns
F.cross_entropy(mlp(x), y), and OUT_DIR/x.npy (f32 [N, 32]) and
OUT_DIR/y.npy (i64 class indices [N]).
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLPWithLoss(nn.Module):
    """The loss is part of the model: forward takes the labels too."""

    def __init__(self, features=32, hidden=48, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x, y):
        return F.cross_entropy(self.head(torch.tanh(self.fc1(x))), y)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("how", choices=["script", "trace"])
    p.add_argument("out")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    model = MLPWithLoss()
    rng = np.random.default_rng(a.seed)
    x = rng.standard_normal((a.samples, 32)).astype(np.float32)
    w = rng.standard_normal((32, 10)).astype(np.float32)
    y = (x @ w).argmax(axis=1).astype(np.int64)
    if a.how == "script":
        scripted = torch.jit.script(model)
    else:
        example = (torch.from_numpy(x[: a.batch]), torch.from_numpy(y[: a.batch]))
        scripted = torch.jit.trace(model, example)
    os.makedirs(a.out, exist_ok=True)
    scripted.save(os.path.join(a.out, "model.pt"))
    np.save(os.path.join(a.out, "x.npy"), x)
    np.save(os.path.join(a.out, "y.npy"), y)


if __name__ == "__main__":
    main()
