"""Convolutional models dpc rejects, for cnn-errors.test (line numbers matter)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class CumulativeBatchNorm(nn.Module):
    """momentum=None: the running average depends on num_batches_tracked."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4, momentum=None)

    def forward(self, x):
        return self.bn(self.conv(x)).flatten(1)


class WrongRank(nn.Module):
    """BatchNorm2d on a 2-d input: its `_check_input_dim` raises."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        return self.bn(self.fc(x))


class ReturnIndices(nn.Module):
    def forward(self, x):
        y, _ = F.max_pool2d(x, 2, return_indices=True)
        return y.flatten(1)


class EvalModeTrace(nn.Module):
    """Traced in eval mode: the trace holds batch_norm(training=False)."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(x).flatten(1)


class DataDependentBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        y = self.conv(x)
        if bool(y.sum() > 0):
            y = F.relu(y)
        return y.flatten(1)


class FractionalUpsample(nn.Module):
    """Nearest upsampling by 1.5: pixels repeat unevenly."""
    def __init__(self):
        super().__init__()
        self.up = nn.Upsample(scale_factor=1.5, mode="nearest")

    def forward(self, x):
        return self.up(x).flatten(1)


MODELS = {
    "cumulative-bn": CumulativeBatchNorm,
    "wrong-rank": WrongRank,
    "return-indices": ReturnIndices,
    "eval-trace": EvalModeTrace,
    "data-branch": DataDependentBranch,
    "fractional-upsample": FractionalUpsample,
}
