"""1-d convolution, pooling and upsampling models dpc rejects, for
conv1d-upsample-errors.test (line numbers matter).

usage: bad_conv1d_models.py NAME OUT.pt -- scripts MODELS[NAME]."""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class CircularConv1d(nn.Module):
    """padding_mode='circular': Conv1d pads with F.pad before convolving."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        return self.conv(x).flatten(1)


class UnevenAdaptiveMaxPool1d(nn.Module):
    """Length 8 to 3: the windows [0, 3), [2, 6), [5, 8) overlap."""
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveMaxPool1d(3)

    def forward(self, x):
        return self.pool(x).flatten(1)


class MaxPool1dIndices(nn.Module):
    def forward(self, x):
        y, indices = F.max_pool1d(x, 2, return_indices=True)
        return y.flatten(1)


class UnbatchedConv1d(nn.Module):
    """Conv1d on one [C, L] sequence (x[0]) instead of a batch."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 3)

    def forward(self, x):
        return self.conv(x[0]).flatten()


class AntialiasedBilinear(nn.Module):
    def forward(self, x):
        return F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True).flatten(1)


class BicubicUpsample(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2.0, mode="bicubic")

    def forward(self, x):
        return self.up(x).flatten(1)


MODELS = {
    "circular-conv1d": CircularConv1d,
    "uneven-adaptive-max-pool1d": UnevenAdaptiveMaxPool1d,
    "max-pool1d-indices": MaxPool1dIndices,
    "unbatched-conv1d": UnbatchedConv1d,
    "antialiased-bilinear": AntialiasedBilinear,
    "bicubic-upsample": BicubicUpsample,
}

if __name__ == "__main__":
    torch.jit.script(MODELS[sys.argv[1]]()).save(sys.argv[2])
