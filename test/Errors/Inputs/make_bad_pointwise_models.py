"""Writes a scripted model using a pointwise form dpc refuses.

usage: make_bad_pointwise_models.py KIND OUT.pt
KIND: clamp-tensor-bounds (torch.clamp with a tensor as its bound),
where-long (torch.where selecting from an int64 tensor), where-indices
(torch.where with the condition only: the indices of the true elements).
"""
import sys

import torch
from torch import nn


class ClampTensorBounds(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.register_buffer("low", torch.zeros(4))

    def forward(self, x):
        return torch.clamp(self.fc(x), min=self.low)


class WhereLong(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.register_buffer("codes", torch.arange(4))

    def forward(self, x):
        h = self.fc(x)
        return h * torch.where(h > 0, self.codes, 0)


class WhereIndices(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        h = self.fc(x)
        return h[torch.where(h > 0)[0]]


MODELS = {"clamp-tensor-bounds": ClampTensorBounds, "where-long": WhereLong,
          "where-indices": WhereIndices}

if __name__ == "__main__":
    torch.jit.script(MODELS[sys.argv[1]]()).save(sys.argv[2])
