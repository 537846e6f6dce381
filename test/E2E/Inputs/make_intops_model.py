"""Writes a scripted model with run-time integer and index ops, and its data.

usage: make_intops_model.py gather|bag OUT_DIR [--samples N]

gather: GatherScatterMLP(x [N, 32] float32, idx [N, 4] int64 in [0, 10),
with repeats): torch.gather by the input index (per-sample class scores)
and by an index the step computes (argmax in groups of 8), and
Tensor.scatter_add by both. Writes x.npy, idx.npy and y.npy (labels).

bag: EmbeddingBagMLP(x [N, 6] int64 token ids in [0, 50), with repeats):
nn.EmbeddingBag in modes sum, mean and max and F.embedding_bag on a 2-d
input. Writes x.npy and y.npy.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class GatherScatterMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        self.scores = nn.Linear(64, 10)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x, idx):
        h = torch.tanh(self.fc1(x))
        s = self.scores(h)
        # Per-sample class scores picked by the input index (repeats in a
        # row pick one score twice: its gradient adds up in scatter_add).
        chosen = torch.gather(s, 1, idx)
        # Added back where they came from, squared: scatter_add by the input
        # index, gradient to s (identity) and to the picks (a gather).
        spread = s.scatter_add(1, idx, chosen * chosen)
        # An index computed by the step: the maximum of each group of 8.
        groups = h.view(h.size(0), 8, 8)
        best = groups.argmax(dim=2, keepdim=True)
        top = torch.gather(groups, 2, best)
        boosted = groups.scatter_add(2, best, top * 0.5)
        out = spread + self.fc2(boosted.view(h.size(0), 64))
        return out + 0.1 * top.sum(dim=1) + 0.1 * chosen.sum(dim=1, keepdim=True)


class EmbeddingBagMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.sum = nn.EmbeddingBag(50, 16, mode="sum")
        self.mean = nn.EmbeddingBag(50, 16, mode="mean")
        self.max = nn.EmbeddingBag(50, 16, mode="max")
        self.table = nn.Parameter(torch.randn(50, 8))
        self.fc = nn.Linear(56, 10)

    def forward(self, x):
        h = torch.cat([self.sum(x), self.mean(x), self.max(x),
                       F.embedding_bag(x, self.table, mode="max")], dim=1)
        return self.fc(torch.tanh(h))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["gather", "bag"])
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=64)
    a = p.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    os.makedirs(a.out, exist_ok=True)
    if a.model == "gather":
        model = GatherScatterMLP()
        np.save(f"{a.out}/x.npy", rng.standard_normal((a.samples, 32)).astype(np.float32))
        np.save(f"{a.out}/idx.npy", rng.integers(0, 10, (a.samples, 4)).astype(np.int64))
    else:
        model = EmbeddingBagMLP()
        np.save(f"{a.out}/x.npy", rng.integers(0, 50, (a.samples, 6)).astype(np.int64))
    np.save(f"{a.out}/y.npy", rng.integers(0, 10, (a.samples,)).astype(np.int64))
    torch.jit.script(model).save(f"{a.out}/model.pt")


if __name__ == "__main__":
    main()
