"""Models dpc must reject with a clear error (see make_bad_model.py)."""
import torch
import torch.nn as nn


class UsesErfinv(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = self.fc(x)
        return torch.erfinv(h)


class InPlace(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = self.fc(x)
        x.relu_()  # mutates the caller's tensor: cannot be made functional
        return h + self.fc(x)


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x), x


class Float64Weights(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3).double()

    def forward(self, x):
        return self.fc(x)


class Good(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)


class NoParameters(nn.Module):
    def forward(self, x):
        return x * 2.0


class Frozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.fc.weight.requires_grad_(False)
        self.fc.bias.requires_grad_(False)

    def forward(self, x):
        return self.fc(x)


class IgnoresParameters(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return x * 2.0


MODELS = {"erfinv": UsesErfinv, "inplace": InPlace, "two-outputs": TwoOutputs,
          "f64": Float64Weights, "good": Good, "no-parameters": NoParameters,
          "frozen": Frozen, "ignores-parameters": IgnoresParameters}
