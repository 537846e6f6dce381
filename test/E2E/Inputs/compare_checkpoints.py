"""Checks that two dpc checkpoints hold the same tensors, bit for bit
(their metadata, which names the model file, may differ).

usage: compare_checkpoints.py A.safetensors B.safetensors [--differ]

Prints 'N tensors identical' and exits 0 when every tensor of A is in B
with equal dtype, shape and bytes and neither has others. With --differ the
expectation is reversed: exits 0 (printing 'N tensors, M differ') when the
floating-point tensors are not all identical.
"""
import os
import sys


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_against_torch import read_safetensors  # noqa: E402


def main():
    args = [a for a in sys.argv[1:] if a != "--differ"]
    differ = "--differ" in sys.argv[1:]
    a, b = read_safetensors(args[0]), read_safetensors(args[1])
    if set(a) != set(b):
        print(f"FAIL: tensor names differ: {sorted(set(a) ^ set(b))}")
        sys.exit(1)
    different = [n for n in sorted(a) if a[n].dtype != b[n].dtype or a[n].shape != b[n].shape
                 or a[n].tobytes() != b[n].tobytes()]
    if differ:
        print(f"{len(a)} tensors, {len(different)} differ")
        sys.exit(0 if different else 1)
    if different:
        print(f"FAIL: {len(different)} of {len(a)} tensors differ, e.g. {different[:3]}")
        sys.exit(1)
    print(f"{len(a)} tensors identical")


if __name__ == "__main__":
    main()
