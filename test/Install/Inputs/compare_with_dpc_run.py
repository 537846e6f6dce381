"""Checks that examples/cpp-train's run equals dpc-run's on the same data.

usage: compare_with_dpc_run.py CPP_TRAIN.log CPP_TRAIN.safetensors -- DPC-RUN ARGS...

Reads 'stopped ... after N steps, final loss L' from the example's log, runs
DPC-RUN ARGS... --steps N --save-checkpoint <dir of the example's checkpoint>/
dpc-run.safetensors, and requires dpc-run's 'final loss' to print the same
(both %.6f) and every tensor of both checkpoints to be identical, bit for
bit. Prints what it compared.
"""
import json
import os
import re
import struct
import subprocess
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=DTYPES[info["dtype"]]).copy()
    return tensors


def main():
    log, own_ckpt = sys.argv[1], sys.argv[2]
    if sys.argv[3] != "--":
        sys.exit(__doc__)
    command = sys.argv[4:]
    m = re.search(r"after (\d+) steps, final loss (\S+)", open(log).read())
    if not m:
        sys.exit(f"{log}: no 'after N steps, final loss L' line")
    steps, loss = m.group(1), m.group(2)
    theirs = os.path.join(os.path.dirname(own_ckpt), "dpc-run.safetensors")
    out = subprocess.run(command + ["--steps", steps, "--save-checkpoint", theirs],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"final loss (\S+),", out)
    if not m or m.group(1) != loss:
        sys.exit(f"dpc-run's final loss {m.group(1) if m else '?'} != the example's {loss}")
    a, b = read_safetensors(own_ckpt), read_safetensors(theirs)
    if sorted(a) != sorted(b):
        sys.exit(f"tensor names differ: {sorted(a)} vs {sorted(b)}")
    for name in a:
        if a[name].tobytes() != b[name].tobytes():
            sys.exit(f"tensor '{name}' differs")
    print(f"same final loss {loss} after {steps} steps; {len(a)} tensors identical")


if __name__ == "__main__":
    main()
