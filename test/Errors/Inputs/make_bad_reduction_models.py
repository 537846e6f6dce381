"""Writes a scripted model using a normalization or reduction form dpc
refuses.

usage: make_bad_reduction_models.py KIND OUT.pt
KIND: instance-running-stats (InstanceNorm2d(track_running_stats=True)),
norm-p1 (torch.norm with p = 1).
"""
import sys

import torch
from torch import nn


class InstanceRunningStats(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.inorm = nn.InstanceNorm2d(4, track_running_stats=True)

    def forward(self, x):
        return self.inorm(self.conv(x)).flatten(1)


class NormP1(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        h = self.fc(x)
        return h / torch.norm(h, p=1, dim=1, keepdim=True)


MODELS = {"instance-running-stats": InstanceRunningStats, "norm-p1": NormP1}

if __name__ == "__main__":
    model = MODELS[sys.argv[1]]()
    model.train()
    torch.jit.script(model).save(sys.argv[2])
