"""Small models for dpc's end-to-end tests, written to .pt by make_model.py.

TorchScript needs a class's source in a file to script it, hence this module.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    """nn.Linear + F.relu + tanh, the walking skeleton's model."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        h = torch.tanh(self.fc2(h))
        return self.head(h)


class TiedMLP(nn.Module):
    """A weight used twice (one summed gradient), sigmoid, a broadcast bias
    added with +, an explicit matmul with a transposed weight, and a
    parameter the loss does not use."""

    def __init__(self, features=32, classes=10):
        super().__init__()
        self.shared = nn.Linear(features, features)
        self.w = nn.Parameter(torch.randn(classes, features) * 0.2)
        self.b = nn.Parameter(torch.zeros(classes))
        self.unused = nn.Parameter(torch.ones(3))

    def forward(self, x):
        h = torch.sigmoid(self.shared(x))
        h = self.shared(h) - 0.5 * h
        return torch.matmul(h, self.w.t()) + self.b


class Regressor(nn.Module):
    """For --loss mse."""

    def __init__(self, features=8, outputs=4):
        super().__init__()
        self.fc1 = nn.Linear(features, 16)
        self.fc2 = nn.Linear(16, outputs)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class ExpMLP(nn.Module):
    """torch.exp between two layers (bounded by a tanh before it, so that
    exp stays within [1/e, e])."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        h = torch.exp(torch.tanh(self.fc1(x)))
        return self.head(h)


class PointwiseMLP(nn.Module):
    """The pointwise ops with numbers and activations between two layers,
    each in a numerically sane range: arguments of log, sqrt and pow stay
    positive and away from 0 (built from a tanh), the kinks of the piecewise
    ops are crossed only by chance."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        h = self.fc1(x)
        t = torch.tanh(h)
        a = t + 1.0
        numbers = (1.0 - t) + (t - 1) + t * 0.5 + t / 2 + 2.0 / (a + 1) + \
            torch.add(t, 2.0, alpha=3) + 0.25 * t
        logs = torch.log(a + 1) + torch.log1p(a) + torch.sqrt(a + 0.5) + \
            torch.rsqrt(a + 0.5) + torch.abs(t) + torch.reciprocal(a + 1) + \
            (a + 0.5) ** 2.5 + t ** 2 + t.pow(3)
        waves = torch.sin(h) + torch.cos(h) + torch.erf(h)
        acts = F.silu(h) + F.softplus(h) + F.softplus(h, beta=2.0, threshold=1.0) + \
            F.mish(h) + F.hardswish(h * 3) + F.hardsigmoid(h * 3) + \
            F.relu6(h * 4) + F.hardtanh(h, -0.5, 0.5) + F.leaky_relu(h, 0.1) + \
            F.elu(h) + torch.clamp(h, -0.5, 0.5) + h.clamp_min(-0.2) + \
            h.clamp_max(0.3) + nn.functional.elu(h, alpha=0.5)
        return self.head((numbers + logs + waves + acts) * 0.125)


MODELS = {"mlp": MLP, "tied": TiedMLP, "regressor": Regressor, "exp": ExpMLP,
          "pointwise": PointwiseMLP}
