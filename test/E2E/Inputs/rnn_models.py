"""Sequence classifiers with nn.LSTM / nn.GRU for dpc's end-to-end tests.

Token ids [N, L] -> class logits [N, 3]:
- lstm: 2-layer LSTM, batch_first, the last step's output;
- gru-bi: 2-layer bidirectional GRU, sequence-first, its final hidden
  states (h_n) of both directions of the top layer;
- lstm-bi: 1-layer bidirectional LSTM without biases, with learned initial
  states (h0, c0) passed in, reading the output's mean over time and c_n;
- lstm-proj: an LSTM with proj_size, which dpc refuses.
"""
import torch
import torch.nn as nn


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.rnn = nn.LSTM(8, 12, num_layers=2, batch_first=True)
        self.head = nn.Linear(12, 3)

    def forward(self, x):
        out, _ = self.rnn(self.emb(x))
        return self.head(out[:, -1])


class BiGRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.rnn = nn.GRU(8, 10, num_layers=2, bidirectional=True)
        self.head = nn.Linear(20, 3)

    def forward(self, x):
        _, h_n = self.rnn(self.emb(x).transpose(0, 1))
        return self.head(torch.cat([h_n[-2], h_n[-1]], dim=1))


class BiLSTMWithState(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.rnn = nn.LSTM(8, 6, bidirectional=True, bias=False, batch_first=True)
        self.h0 = nn.Parameter(0.1 * torch.randn(2, 1, 6))
        self.c0 = nn.Parameter(0.1 * torch.randn(2, 1, 6))
        self.head = nn.Linear(12 + 12, 3)

    def forward(self, x):
        n = x.shape[0]
        state = (self.h0.expand(2, n, 6).contiguous(), self.c0.expand(2, n, 6).contiguous())
        out, (_, c_n) = self.rnn(self.emb(x), state)
        return self.head(torch.cat([out.mean(1), c_n.transpose(0, 1).reshape(n, 12)], dim=1))


class ProjectedLSTM(nn.Module):
    """proj_size: refused."""
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.rnn = nn.LSTM(8, 12, proj_size=4, batch_first=True)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        out, _ = self.rnn(self.emb(x))
        return self.head(out[:, -1])


MODELS = {"lstm": LSTMClassifier, "gru-bi": BiGRUClassifier, "lstm-bi": BiLSTMWithState,
          "lstm-proj": ProjectedLSTM}
