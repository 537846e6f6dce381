"""Writes a sequence classifier of rnn_models.py for dpc's tests.

usage: make_rnn.py NAME OUT_DIR [--samples N] [--seq L]

OUT_DIR/model.pt is the scripted model; x.npy holds N random token
sequences [N, L] (int64) and y.npy their classes (int64, 0..2)."""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rnn_models import MODELS  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name", choices=sorted(MODELS))
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--seq", type=int, default=6)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    torch.jit.script(MODELS[a.name]()).save(f"{a.out}/model.pt")
    g = torch.Generator().manual_seed(1)
    np.save(f"{a.out}/x.npy", torch.randint(0, 20, (a.samples, a.seq), generator=g).numpy())
    np.save(f"{a.out}/y.npy", torch.randint(0, 3, (a.samples,), generator=g).numpy())


if __name__ == "__main__":
    main()
