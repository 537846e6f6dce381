"""Writes a scripted model using a pointwise form dpc refuses.

usage: make_bad_pointwise_models.py KIND OUT.pt
KIND: clamp-tensor-bounds (torch.clamp with a tensor as its bound),
where-long (torch.where selecting from an int64 tensor), where-indices
(torch.where with the condition only: the indices of the true elements),
to-double (x.double(): float64 arithmetic), to-half (x.to(torch.float16)),
long-to-double (the int64 input ids made float64 at run time), float-to-long
(x.long(): no kernel makes a float tensor int64).
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


class ToDouble(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(x).double().float()


class ToHalf(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(x.to(torch.float16).float())


class LongToDouble(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, ids):
        return self.fc(ids.double().float())


class FloatToLong(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)

    def forward(self, x):
        return self.emb(x.long())


MODELS = {"clamp-tensor-bounds": ClampTensorBounds, "where-long": WhereLong,
          "where-indices": WhereIndices, "to-double": ToDouble, "to-half": ToHalf,
          "long-to-double": LongToDouble, "float-to-long": FloatToLong}

if __name__ == "__main__":
    torch.jit.script(MODELS[sys.argv[1]]()).save(sys.argv[2])
