"""Writes a TorchScript model's parameters and buffers as safetensors, the
file `dpc-run --init-weights` reads (what safetensors.torch.save_file(
model.state_dict()) writes, without needing that package).

usage: write_weights.py MODEL.pt OUT.safetensors [--scale S] [--untie NAME]
                        [--invert NAME]
--scale multiplies every floating-point tensor, so that a test can tell
these weights from the ones embedded in a module. --untie NAME writes NAME
(a tied weight's second name) as a different tensor from the one it is
tied to, which no model with the tie can hold. --invert NAME writes the
bool buffer NAME negated (a mask other than the one the model holds).
"""
import argparse
import json
import struct

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64",
          torch.bool: "BOOL"}


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
    p.add_argument("--untie")
    p.add_argument("--invert")
    a = p.parse_args()
    state = torch.jit.load(a.model).state_dict()
    tensors = {name: t * a.scale if t.is_floating_point() else t
               for name, t in state.items()}
    if a.untie:
        tensors[a.untie] = tensors[a.untie] + 1.0
    if a.invert:
        tensors[a.invert] = ~tensors[a.invert]
    write_safetensors(a.out, tensors)


if __name__ == "__main__":
    main()
