"""Writes the Llama-style decoder of llama_models.py for dpc's tests.

usage: make_llama.py OUT_DIR [--samples N] [--seq T]

OUT_DIR/model.pt is the scripted model (token ids [B, T] -> logits
[B, T, vocab]); x.npy holds N random token sequences and y.npy the next
tokens (the same sequences shifted by one), both int64 [N, T]."""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_models import Llama  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--seq", type=int, default=16)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    model = Llama(max_len=a.seq)
    torch.jit.script(model).save(f"{a.out}/model.pt")
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, 64, (a.samples, a.seq + 1), generator=g)
    np.save(f"{a.out}/x.npy", tokens[:, :-1].numpy())
    np.save(f"{a.out}/y.npy", tokens[:, 1:].numpy())


if __name__ == "__main__":
    main()
