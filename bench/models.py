"""Benchmark models (TorchScript needs class sources in a file)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    """A 4-layer MLP: GEMM-bound, the walking skeleton's model scaled up."""

    def __init__(self, features=512, hidden=1024, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, hidden)
        self.fc4 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        return self.fc4(x)


BENCH_MODELS = {
    # name: (constructor, per-rank input shape without batch, label kind, classes)
    "mlp": (MLP, (512,), 10),
}
