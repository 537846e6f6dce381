"""Writes a model with two inputs, a buffer and a frozen parameter, for --mode dp.

usage: make_dp_model.py OUT_DIR --samples N
Writes OUT_DIR/model.pt (scripted), OUT_DIR/x.npy [N, 12], OUT_DIR/z.npy
[N, 6] and OUT_DIR/y.npy (N class labels). nn.DataParallel scatters every
input along dimension 0 and replicates buffers and parameters that do not
require gradients along with the trainable ones.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fx = nn.Linear(12, 16)
        self.fz = nn.Linear(6, 16, bias=False)
        self.frozen = nn.Parameter(torch.linspace(-1.0, 1.0, 16), requires_grad=False)
        self.register_buffer("scale", torch.full((16,), 0.5))
        self.head = nn.Linear(16, 5)

    def forward(self, x, z):
        h = torch.tanh(self.fx(x) + self.fz(z) * self.scale) + self.frozen
        return self.head(F.relu(h))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=64)
    a = p.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((a.samples, 12)).astype(np.float32)
    z = rng.standard_normal((a.samples, 6)).astype(np.float32)
    y = (x[:, :5] + z[:, :5]).argmax(axis=1).astype(np.int64)
    os.makedirs(a.out, exist_ok=True)
    torch.jit.script(TwoInputs()).save(os.path.join(a.out, "model.pt"))
    np.save(os.path.join(a.out, "x.npy"), x)
    np.save(os.path.join(a.out, "z.npy"), z)
    np.save(os.path.join(a.out, "y.npy"), y)


if __name__ == "__main__":
    main()
