"""Writes the U-Net of unet_models.py for dpc's tests.

usage: make_unet.py OUT_DIR [--samples N] [--size S]

OUT_DIR/model.pt is the scripted model ([N, 3, S, S] -> [N, 2, S, S]);
x.npy holds N random images and y.npy random per-pixel targets."""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_models import UNet  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--size", type=int, default=16)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    torch.jit.script(UNet()).save(f"{a.out}/model.pt")
    g = torch.Generator().manual_seed(1)
    x = torch.randn(a.samples, 3, a.size, a.size, generator=g)
    y = torch.randn(a.samples, 2, a.size, a.size, generator=g)
    np.save(f"{a.out}/x.npy", x.numpy())
    np.save(f"{a.out}/y.npy", y.numpy())


if __name__ == "__main__":
    main()
