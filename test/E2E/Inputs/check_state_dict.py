"""Loads a dpc checkpoint into the TorchScript model it was compiled from
with torch's strict load_state_dict, as a user resuming in PyTorch would.

usage: check_state_dict.py MODEL.pt CHECKPOINT.safetensors

Strict loading needs every state_dict name, including each name of a tied
weight (lm_head.weight beside wte.weight). Checks that the load succeeds,
that every state_dict tensor then equals the checkpoint's bit for bit, and
that the names of each tied tensor hold equal values in the file.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_against_torch import read_safetensors  # noqa: E402


def main():
    model_path, checkpoint_path = sys.argv[1:3]
    model = torch.jit.load(model_path)
    ckpt = read_safetensors(checkpoint_path)
    state = {name: torch.from_numpy(arr.copy()) for name, arr in ckpt.items()
             if not name.startswith("optimizer.")}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        print("FAIL: strict load_state_dict:", str(e).splitlines()[0])
        sys.exit(1)
    failures = []
    tied = {}
    for name, t in model.state_dict().items():
        if not np.array_equal(t.numpy(), ckpt[name]):
            failures.append(f"'{name}' differs after loading")
        tied.setdefault(t.data_ptr(), []).append(name)
    groups = [names for names in tied.values() if len(names) > 1]
    for names in groups:
        for other in names[1:]:
            if not np.array_equal(ckpt[names[0]], ckpt[other]):
                failures.append(f"tied '{names[0]}' and '{other}' differ in the file")
    print(f"strict load_state_dict of {len(state)} tensors; tied names: "
          + "; ".join(", ".join(names) for names in groups))
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
