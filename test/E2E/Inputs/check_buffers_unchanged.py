"""Checks that a checkpoint holds the buffers of a module bit for bit as the
TorchScript model saved them (a BatchNorm in eval mode updates nothing).

usage: check_buffers_unchanged.py PREFIX MODEL.pt CHECKPOINT.safetensors
Compares every buffer whose state_dict name starts with PREFIX; prints
"N tensors unchanged: NAMES", or FAIL lines and exits 1.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_against_torch import read_safetensors  # noqa: E402


def main():
    prefix, model_path, checkpoint_path = sys.argv[1:4]
    model = torch.jit.load(model_path)
    ckpt = read_safetensors(checkpoint_path)
    names = sorted(n for n, _ in model.named_buffers() if n.startswith(prefix))
    if not names:
        print(f"FAIL: the model has no buffer named {prefix}*")
        sys.exit(1)
    buffers = dict(model.named_buffers())
    failures = [f"FAIL: '{n}' changed" for n in names
                if n not in ckpt or not np.array_equal(buffers[n].numpy(), ckpt[n])]
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"{len(names)} tensors unchanged: {' '.join(names)}")


if __name__ == "__main__":
    main()
