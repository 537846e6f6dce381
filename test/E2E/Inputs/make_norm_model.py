"""Writes a small conv net with GroupNorm and InstanceNorm2d (scripted) and
an image data set for it.

usage: make_norm_model.py OUT_DIR --samples N
Writes OUT_DIR/model.pt (training mode), OUT_DIR/x.npy (N images, float32
[N, 3, 8, 8]) and OUT_DIR/y.npy (N class labels, int64, the class of the
brightest of ten fixed patterns, so the loss can go down).
"""
import argparse
import os

import numpy as np
import torch
from torch import nn


class GroupInstanceNormNet(nn.Module):
    """conv -> GroupNorm(4 groups of 2 channels) -> relu -> conv ->
    InstanceNorm2d(affine) -> relu -> conv -> InstanceNorm2d (no affine, no
    running statistics) -> relu -> global average -> linear."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.gn = nn.GroupNorm(4, 8)
        # No bias before InstanceNorm: a per-channel constant is removed by
        # the normalization, so its gradient would be rounding noise around
        # 0 (as in real models, which leave it out).
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.inorm_affine = nn.InstanceNorm2d(8, affine=True)
        self.conv3 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.inorm = nn.InstanceNorm2d(8)
        self.fc = nn.Linear(8, classes)
        # Non-trivial affine parameters, so that their use is checked.
        with torch.no_grad():
            for p in (self.gn.weight, self.inorm_affine.weight):
                p.uniform_(0.5, 1.5)
            for p in (self.gn.bias, self.inorm_affine.bias):
                p.uniform_(-0.5, 0.5)

    def forward(self, x):
        h = torch.relu(self.gn(self.conv1(x)))
        h = torch.relu(self.inorm_affine(self.conv2(h)))
        h = torch.relu(self.inorm(self.conv3(h)))
        return self.fc(h.mean(dim=(2, 3)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    model = GroupInstanceNormNet()
    model.train()
    rng = np.random.default_rng(a.seed)
    shape = (3, 8, 8)
    x = rng.standard_normal((a.samples, *shape)).astype(np.float32)
    patterns = rng.standard_normal((10, int(np.prod(shape)))).astype(np.float32)
    y = (x.reshape(a.samples, -1) @ patterns.T).argmax(axis=1).astype(np.int64)
    os.makedirs(a.out, exist_ok=True)
    torch.jit.script(model).save(os.path.join(a.out, "model.pt"))
    np.save(os.path.join(a.out, "x.npy"), x)
    np.save(os.path.join(a.out, "y.npy"), y)


if __name__ == "__main__":
    main()
