"""Writes a TorchScript model's parameters and buffers as safetensors, the
file `dpc-run --init-weights` reads (what safetensors.torch.save_file(
model.state_dict()) writes, without needing that package).

usage: write_weights.py MODEL.pt OUT.safetensors [--scale S]
--scale multiplies every floating-point tensor, so that a test can tell
these weights from the ones embedded in a module.
"""
import argparse
import json
import struct

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--scale", type=float, default=1.0)
    a = p.parse_args()
    state = torch.jit.load(a.model).state_dict()
    write_safetensors(a.out, {name: t * a.scale if t.is_floating_point() else t
                              for name, t in state.items()})


if __name__ == "__main__":
    main()
