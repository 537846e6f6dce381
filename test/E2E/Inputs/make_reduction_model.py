"""Writes a small scripted MLP that uses amax / amin / max / min / argmax /
var / std / logsumexp / cumsum / norm in its forward,
and a data set for it.

usage: make_reduction_model.py OUT_DIR --samples N
Writes OUT_DIR/model.pt, OUT_DIR/x.npy (N x 32 float32) and OUT_DIR/y.npy
(N class labels, int64).
"""
import argparse
import os

import numpy as np
import torch
from torch import nn


class ExtremaMLP(nn.Module):
    """The hidden layer as 8 x 8 blocks: the max, the (unbiased) variance
    and the logsumexp of each block's rows, the min and the biased variance
    of its columns, the means of its cumulative row sums, the sums of the
    values of max(dim) and min(dim, keepdim), and an embedding row chosen by
    the argmax of the whole block, Euclidean norms and standard deviations
    of rows and columns feed the head, whose logits are scaled by the largest
    weight of fc1 (a full reduction of a parameter, not of the batch, so
    that DDP's per-rank forward is the global batch's)."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.pick = nn.Embedding(64, 4)
        self.head = nn.Linear(76, classes)

    def forward(self, x):
        h = torch.tanh(self.fc1(x)).view(-1, 8, 8)
        rows = torch.amax(h, dim=2)
        cols = h.amin(1)
        spread = torch.var(h, dim=2)  # unbiased
        biased = h.var(1, correction=0, keepdim=True).view(-1, 8)
        soft = torch.logsumexp(h, dim=2)
        running = torch.cumsum(h, dim=1).mean(dim=2)
        peaks, _ = torch.max(h, dim=2)
        lows = h.min(1, keepdim=True)[0].view(-1, 8)
        winner = self.pick(torch.argmax(h.view(-1, 64), dim=1))
        norms = torch.linalg.vector_norm(h, 2, dim=2) + torch.norm(h, dim=1)
        deviation = h.std(2) + torch.std(h, dim=1, unbiased=False)
        z = torch.cat([rows, cols, spread, biased, soft, running, peaks + lows,
                       winner, norms, deviation], dim=1)
        return self.head(z) * (torch.max(self.fc1.weight) * 4.0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    model = ExtremaMLP()
    rng = np.random.default_rng(a.seed)
    x = rng.standard_normal((a.samples, 32)).astype(np.float32)
    w = rng.standard_normal((32, 10)).astype(np.float32)
    y = (x @ w).argmax(axis=1).astype(np.int64)
    os.makedirs(a.out, exist_ok=True)
    torch.jit.script(model).save(os.path.join(a.out, "model.pt"))
    np.save(os.path.join(a.out, "x.npy"), x)
    np.save(os.path.join(a.out, "y.npy"), y)


if __name__ == "__main__":
    main()
