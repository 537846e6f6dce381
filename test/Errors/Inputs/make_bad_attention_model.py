"""Writes a scripted model that dpc refuses around attention masks and lists
built in forward.

usage: make_bad_attention_model.py KIND OUT.pt
KIND:
- bool-buffer-in-place: changes a bool buffer (a causal mask) in place;
  bool buffers are constants of the step.
- bool-buffer: a valid model with a bool causal-mask buffer (for the
  --weights external refusal).
"""
import sys

import torch
from torch import nn


class BoolBufferInPlace(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("mask", torch.tril(torch.ones(4, 4)) == 0)

    def forward(self, x):
        self.mask.logical_not_()  # line 24
        return self.fc(x).masked_fill(self.mask, 0.0)


class BoolBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("mask", torch.tril(torch.ones(4, 4)) == 0)

    def forward(self, x):
        return self.fc(x).masked_fill(self.mask, 0.0)


MODELS = {"bool-buffer-in-place": BoolBufferInPlace, "bool-buffer": BoolBuffer}

if __name__ == "__main__":
    kind, out = sys.argv[1:3]
    torch.manual_seed(0)
    torch.jit.script(MODELS[kind]()).save(out)
