"""Writes the U-Net of unet_models.py for dpc's tests.

usage: make_unet.py OUT_DIR [--samples N] [--size S]
                    [--model nearest|transposed|bilinear|convs|interpolations] [--trace]

OUT_DIR/model.pt is the scripted (or with --trace, traced) model: the U-Net
upsampling with nn.Upsample (nearest, bilinear) or nn.ConvTranspose2d
(transposed), [N, 3, S, S] -> [N, 2, S, S], or TransposedConvs (convs),
[N, 3, S, S] -> [N, 2, 2S, 2S], or Interpolations (interpolations, S = 8),
[N, 3, 8, 8] -> [N, 2, 16, 16];
x.npy holds N random images and y.npy random per-pixel targets."""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_models import Interpolations, TransposedConvs, UNet  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--size", type=int, default=16)
    p.add_argument("--model", default="nearest",
                   choices=["nearest", "transposed", "bilinear", "convs", "interpolations"])
    p.add_argument("--trace", action="store_true")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    if a.model == "convs":
        model = TransposedConvs()
    elif a.model == "interpolations":
        model = Interpolations()
    else:
        model = UNet(transposed=a.model == "transposed", bilinear=a.model == "bilinear")
    g = torch.Generator().manual_seed(1)
    out = 2 * a.size if a.model in ("convs", "interpolations") else a.size
    x = torch.randn(a.samples, 3, a.size, a.size, generator=g)
    if a.trace:
        torch.jit.trace(model, x[:2]).save(f"{a.out}/model.pt")
    else:
        torch.jit.script(model).save(f"{a.out}/model.pt")
    y = torch.randn(a.samples, 2, out, out, generator=g)
    np.save(f"{a.out}/x.npy", x.numpy())
    np.save(f"{a.out}/y.npy", y.numpy())


if __name__ == "__main__":
    main()
