"""Writes a scripted model that uses a torch.nn layer dpc does not support
(the error must name the model's line and the layer's module path, not an
op inside torch's code), or data-dependent control flow.

usage: make_library_model.py KIND OUT.pt
KIND: lstm, mha, embedding-bag, encoder-layer, data-dependent.
"""
import sys

import torch
from torch import nn


class WithLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 8, num_layers=2, dropout=0.5, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        out, _ = self.rnn(x)  # line 21
        return self.fc(out[:, -1])


class WithMultiheadAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        h, _ = self.attn(x, x, x, need_weights=False)  # line 32
        return self.fc(h.mean(1))


class WithEmbeddingBag(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(10, 8, mode="mean", padding_idx=0)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(self.bag(x))  # line 43


class WithEncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(self.enc(x).mean(1))  # line 53


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = self.fc(x)
        if h.sum() > 0:  # line 63
            h = h * 2.0
        return h


MODELS = {"lstm": WithLSTM, "mha": WithMultiheadAttention, "embedding-bag": WithEmbeddingBag,
          "encoder-layer": WithEncoderLayer, "data-dependent": DataDependent}

if __name__ == "__main__":
    torch.manual_seed(0)
    torch.jit.script(MODELS[sys.argv[1]]()).save(sys.argv[2])
