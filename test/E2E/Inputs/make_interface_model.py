"""Writes small scripted models whose forward goes beyond one tensor in, one
tensor out, and a data set for each.

usage: make_interface_model.py KIND OUT_DIR --samples N [--eval]
Writes OUT_DIR/model.pt, OUT_DIR/x.npy and OUT_DIR/y.npy: for the
classifiers N x 16 float32 features and N class labels of 5 classes; for
`lm` and `causal` N x 8 token ids (vocabulary 11) and the next tokens.

Kinds:
  tuple       forward returns (logits, aux): both heads read one trunk
  dict        forward returns {"aux": ..., "logits": ...} (aux first)
  namedtuple  forward returns a NamedTuple (logits, aux_logits2,
              aux_logits1) as torchvision's GoogLeNet does when scripted:
              the aux heads are Optional and set in training mode only
  loss-tuple  forward(x, y) returns (loss, logits) (for --loss none)
  optional    forward(x, mask: Optional[Tensor] = None, scale: float = 2.0)
  detach      x.detach() and `with torch.no_grad():` change the gradient
  lm          token ids [B, T] -> logits [B, T, V], no .view(-1, V)
  causal      lm with a causal attention mask registered as a bool buffer
              (torch.tril(torch.ones(T, T)) == 0) used with masked_fill
"""
import argparse
import os
from collections import namedtuple
from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

FEATURES, CLASSES, HIDDEN = 16, 5, 24
VOCAB, CONTEXT, EMBED = 11, 8, 12


class TupleOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(FEATURES, HIDDEN)
        self.head = nn.Linear(HIDDEN, CLASSES)
        self.aux = nn.Linear(HIDDEN, 3)

    def forward(self, x) -> Tuple[Tensor, Tensor]:
        h = torch.tanh(self.trunk(x))
        return self.head(h), self.aux(h)


class DictOut(TupleOut):
    def forward(self, x) -> Dict[str, Tensor]:
        h = torch.tanh(self.trunk(x))
        return {"aux": self.aux(h), "logits": self.head(h)}


# torchvision.models.googlenet's output type and its scripted forward.
GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
GoogLeNetOutputs.__annotations__ = {"logits": Tensor, "aux_logits2": Optional[Tensor],
                                    "aux_logits1": Optional[Tensor]}


class NamedTupleOut(TupleOut):
    def __init__(self):
        super().__init__()
        self.aux2 = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x) -> GoogLeNetOutputs:
        h = torch.tanh(self.trunk(x))
        aux1: Optional[Tensor] = None
        aux2: Optional[Tensor] = None
        if self.training:
            aux1 = self.aux(h)
            aux2 = self.aux2(h)
        return GoogLeNetOutputs(self.head(h), aux2, aux1)


class LossTuple(TupleOut):
    def forward(self, x, y) -> Tuple[Tensor, Tensor]:
        logits = self.head(torch.tanh(self.trunk(x)))
        return F.cross_entropy(logits, y), logits


class OptionalInputs(TupleOut):
    def forward(self, x, mask: Optional[Tensor] = None, scale: float = 2.0):
        h = torch.tanh(self.trunk(x))
        if mask is not None:
            h = h * mask
        return self.head(h) * scale


class Detach(TupleOut):
    """The trunk's activation enters the head twice: through tanh, and as a
    detached factor (no gradient through it); the gate is computed under
    no_grad, so its parameters get no gradient at all."""

    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(FEATURES, HIDDEN)

    def forward(self, x):
        h = self.trunk(x)
        with torch.no_grad():
            g = torch.sigmoid(self.gate(x))
        return self.head(torch.tanh(h) * h.detach() * g)


class LanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, EMBED)
        self.mix = nn.Linear(EMBED, EMBED)
        self.lm_head = nn.Linear(EMBED, VOCAB)

    def forward(self, idx):
        h = torch.tanh(self.mix(self.wte(idx)))
        return self.lm_head(h)  # [B, T, V]


class CausalLM(LanguageModel):
    """One causal attention head whose mask is a bool buffer."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mask", torch.tril(torch.ones(CONTEXT, CONTEXT)) == 0)

    def forward(self, idx):
        T = idx.shape[1]
        h = self.wte(idx)
        scores = (h @ self.mix(h).transpose(1, 2)) / 4.0
        scores = scores.masked_fill(self.mask[:T, :T], float("-inf"))
        h = torch.softmax(scores, dim=-1) @ h
        return self.lm_head(torch.tanh(h))


MODELS = {"tuple": TupleOut, "dict": DictOut, "namedtuple": NamedTupleOut,
          "loss-tuple": LossTuple, "optional": OptionalInputs, "detach": Detach,
          "lm": LanguageModel, "causal": CausalLM}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=sorted(MODELS))
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval", action="store_true", help="save the model in eval mode")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    model = MODELS[a.kind]()
    if a.eval:
        model.eval()
    rng = np.random.default_rng(a.seed)
    if a.kind in ("lm", "causal"):
        tokens = rng.integers(0, VOCAB, size=(a.samples, CONTEXT + 1))
        x, y = tokens[:, :-1].astype(np.int64), tokens[:, 1:].astype(np.int64)
    else:
        x = rng.standard_normal((a.samples, FEATURES)).astype(np.float32)
        w = rng.standard_normal((FEATURES, CLASSES)).astype(np.float32)
        y = (x @ w).argmax(axis=1).astype(np.int64)
    os.makedirs(a.out, exist_ok=True)
    torch.jit.script(model).save(os.path.join(a.out, "model.pt"))
    np.save(os.path.join(a.out, "x.npy"), x)
    np.save(os.path.join(a.out, "y.npy"), y)


if __name__ == "__main__":
    main()
