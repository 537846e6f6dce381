"""Writes a test model (scripted or traced) and a data set for it.

usage: make_model.py MODEL {script,trace} OUT_DIR --batch B --samples N
           [--dtype float64]
Writes OUT_DIR/model.pt, OUT_DIR/x.npy and OUT_DIR/y.npy (class labels for
classifiers, regression targets for 'regressor'). With --dtype float64 the
model is model.double() (its parameters float64; the data stays float32,
which a float64 model reads widened, as torch.from_numpy(x).double()).
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import MODELS  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=sorted(MODELS))
    p.add_argument("how", choices=["script", "trace"])
    p.add_argument("out")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    model = MODELS[a.model]()
    features = model.fc1.in_features if hasattr(model, "fc1") else model.shared.in_features
    rng = np.random.default_rng(a.seed)
    x = rng.standard_normal((a.samples, features)).astype(np.float32)
    if a.model == "regressor":
        w = rng.standard_normal((features, 4)).astype(np.float32)
        y = (np.sin(x @ w)).astype(np.float32)
    else:
        w = rng.standard_normal((features, 10)).astype(np.float32)
        y = (x @ w).argmax(axis=1).astype(np.int64)

    dtype = getattr(torch, a.dtype)
    model = model.to(dtype)
    if a.how == "script":
        scripted = torch.jit.script(model)
    else:
        scripted = torch.jit.trace(model, torch.from_numpy(x[: a.batch]).to(dtype))
    os.makedirs(a.out, exist_ok=True)
    scripted.save(os.path.join(a.out, "model.pt"))
    np.save(os.path.join(a.out, "x.npy"), x)
    np.save(os.path.join(a.out, "y.npy"), y)


if __name__ == "__main__":
    main()
