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


class InPlaceSeenThroughView(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = self.fc(x)
        flat = h.view(-1)
        h.add_(1.0)  # flat sees the mutation: cannot be made functional
        return h * 2.0 + flat.sum()


class InPlaceSeenThroughList(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = self.fc(x)
        kept = [h, x]
        h.relu_()  # kept[0] sees the mutation: cannot be made functional
        return kept[0] + h


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


class MixedFloatWeights(nn.Module):
    """One float64 layer in a float32 model."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.head = nn.Linear(4, 3).double()

    def forward(self, x):
        return self.head(self.fc(x).double())


class Float64LayerNorm(nn.Module):
    """A model.double() model with an op that has no float64 kernels."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.norm = nn.LayerNorm(3)

    def forward(self, x):
        return self.norm(self.fc(x))


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


class InverseBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.linalg.inv(self.fc(x).reshape(2, 2, 2)).reshape(2, 4)


class SeveralUnsupported(nn.Module):
    """Three unsupported constructs: erfinv at the top, torch.linalg.inv in
    each of three blocks of a ModuleList (one line of the model), and an op
    that only reads what an unsupported one produced (skipped, as its
    input is unknown) before a further unsupported op (erfcx)."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([InverseBlock() for _ in range(3)])

    def forward(self, x):
        x = torch.erfinv(x)
        for block in self.blocks:
            x = block(x)
        x = torch.relu(x)
        return torch.special.erfcx(x)


MODELS = {"erfinv": UsesErfinv, "several": SeveralUnsupported, "inplace": InPlace,
          "inplace-view": InPlaceSeenThroughView, "inplace-list": InPlaceSeenThroughList, "two-outputs": TwoOutputs,
          "f64": Float64Weights, "mixed-float": MixedFloatWeights,
          "f64-layernorm": lambda: Float64LayerNorm().double(), "good": Good, "no-parameters": NoParameters,
          "frozen": Frozen, "ignores-parameters": IgnoresParameters}
