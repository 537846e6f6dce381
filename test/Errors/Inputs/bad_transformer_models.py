"""Transformer-style models dpc rejects (see transformer-models.test).

The tests name the source lines of this file: keep the line numbers.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Dropout(nn.Module):
    def forward(self, x):
        return torch.dropout(x, 1.5, True)  # line 12


class SplitIndexed(nn.Module):
    def forward(self, x):
        parts = x.split(2, dim=1)
        return parts[0] * parts[1]  # line 18


class SparseEmbedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4, sparse=True)

    def forward(self, idx):
        return self.emb(idx)  # line 27


class FloorDivide(nn.Module):
    def forward(self, x):
        return torch.div(x, 2.0, rounding_mode="floor")  # line 32


class BadAttention(nn.Module):
    def forward(self, x):
        q = x.view(2, 3, 4)
        k = x.view(2, 4, 3)
        return q @ k.transpose(-2, -1)  # line 39


class Embedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)

    def forward(self, idx):
        return self.emb(idx).sum(dim=1)


class BernoulliOfProbabilities(nn.Module):
    def forward(self, x):
        return x * torch.bernoulli(torch.sigmoid(x))  # line 53


class BernoulliOutOfRange(nn.Module):
    def forward(self, x):
        return x * torch.empty(2, 4).bernoulli_(1.5)  # line 58


MODELS = {"dropout": Dropout, "split-indexed": SplitIndexed,
          "sparse-embedding": SparseEmbedding, "floor-divide": FloorDivide,
          "bad-attention": BadAttention, "embedding": Embedding,
          "bernoulli-probabilities": BernoulliOfProbabilities,
          "bernoulli-out-of-range": BernoulliOutOfRange}
