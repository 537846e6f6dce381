"""Writes a convolutional test model (scripted or traced) and an image data set.

usage: make_cnn_model.py MODEL {script,trace} OUT_DIR --batch B --samples N
Writes OUT_DIR/model.pt (in training mode, but for the submodules the
model's freeze() puts in eval mode), OUT_DIR/x.npy (N images,
float32 [N, C, H, W]) and OUT_DIR/y.npy (N class labels, int64). The labels
depend on the images (the class of the brightest of ten fixed patterns), so
the loss can go down.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnn_models import MODELS  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=sorted(MODELS))
    p.add_argument("how", choices=["script", "trace"])
    p.add_argument("out")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    make, shape = MODELS[a.model]
    model = make()
    model.train()
    # Models that put submodules in eval mode (a frozen BatchNorm) do it
    # after model.train(), as a fine-tuning script would.
    if hasattr(model, "freeze"):
        model.freeze()
    rng = np.random.default_rng(a.seed)
    x = rng.standard_normal((a.samples, *shape)).astype(np.float32)
    patterns = rng.standard_normal((10, int(np.prod(shape)))).astype(np.float32)
    y = (x.reshape(a.samples, -1) @ patterns.T).argmax(axis=1).astype(np.int64)

    if a.how == "script":
        scripted = torch.jit.script(model)
    else:
        # Tracing runs the model once: keep its buffers as they were.
        state = {k: v.clone() for k, v in model.state_dict().items()}
        scripted = torch.jit.trace(model, torch.from_numpy(x[: a.batch]))
        scripted.load_state_dict(state)
    os.makedirs(a.out, exist_ok=True)
    scripted.save(os.path.join(a.out, "model.pt"))
    np.save(os.path.join(a.out, "x.npy"), x)
    np.save(os.path.join(a.out, "y.npy"), y)


if __name__ == "__main__":
    main()
