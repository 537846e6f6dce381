"""The example model of dpc's main job: a 3-layer MLP classifier with
BatchNorm.

Writes mlp.pt (TorchScript, scripted, in training mode) and a synthetic
classification data set (x.npy: 4096 samples of 32 features, y.npy: class
indices in [0, 10) given by a fixed random linear teacher), so the loss has
something real to learn, and a validation set from the same teacher
(x_val.npy, y_val.npy: 1000 samples).

usage: /usr/bin/python3 model.py OUT_DIR
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, features=32, hidden=128, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.norm1 = nn.BatchNorm1d(hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = F.relu(self.norm1(self.fc1(x)))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.jit.script(MLP().train()).save(os.path.join(out, "mlp.pt"))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, 32)).astype(np.float32)
    teacher = rng.standard_normal((32, 10)).astype(np.float32)
    y = (x @ teacher).argmax(axis=1).astype(np.int64)
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "y.npy"), y)
    x_val = rng.standard_normal((1000, 32)).astype(np.float32)
    y_val = (x_val @ teacher).argmax(axis=1).astype(np.int64)
    np.save(os.path.join(out, "x_val.npy"), x_val)
    np.save(os.path.join(out, "y_val.npy"), y_val)


if __name__ == "__main__":
    main()
