"""Writes a model of torchvision's classification zoo (torchvision 0.14,
default architecture, 10 classes), or with NAME 'timm:MODEL' one of timm's
(timm.create_model(MODEL), the version scripts/setup.sh pins), scripted in
training mode (traced with --trace), and an image data set for it.

usage: make_torchvision_model.py NAME OUT_DIR --size S --samples N [--seed 0]
           [--kwargs JSON] [--trace]

Writes OUT_DIR/model.pt, OUT_DIR/x.npy (N images [3, S, S], standard normal)
and OUT_DIR/y.npy (labels in [0, 10) that depend on the images).
--kwargs passes more constructor arguments (e.g. '{"aux_logits": false}').
"""
import argparse
import json
import os

import numpy as np
import torch
import torchvision


def zoo_model(name, kwargs):
    """torchvision.models.NAME or, for 'timm:NAME', timm's NAME, with 10
    classes and the constructor arguments `kwargs`."""
    if name.startswith("timm:"):
        import timm
        return timm.create_model(name[len("timm:"):], pretrained=False, num_classes=10,
                                 **kwargs)
    return getattr(torchvision.models, name)(num_classes=10, **kwargs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("out")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kwargs", type=json.loads, default={})
    p.add_argument("--trace", action="store_true")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    model = zoo_model(a.name, a.kwargs).train()
    rng = np.random.default_rng(a.seed)
    x = rng.standard_normal((a.samples, 3, a.size, a.size)).astype(np.float32)
    patterns = rng.standard_normal((10, 3 * a.size * a.size)).astype(np.float32)
    y = (x.reshape(a.samples, -1) @ patterns.T).argmax(axis=1).astype(np.int64)
    os.makedirs(a.out, exist_ok=True)
    if a.trace:
        traced = torch.jit.trace(model, torch.from_numpy(x[:2]), check_trace=False)
        traced.save(os.path.join(a.out, "model.pt"))
    else:
        torch.jit.script(model).save(os.path.join(a.out, "model.pt"))
    np.save(os.path.join(a.out, "x.npy"), x)
    np.save(os.path.join(a.out, "y.npy"), y)


if __name__ == "__main__":
    main()
