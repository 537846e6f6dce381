"""Writes x.npy (N x 32 f32, normal) and y.npy (N i64 labels in 0..9) to DIR,
N samples, in chunks through np.lib.format.open_memmap: the files are
written without ever being whole in this process's memory.

usage: write_big_data.py DIR N
"""
import sys

import numpy as np


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(0)
    w = rng.standard_normal((32, 10)).astype(np.float32)
    x = np.lib.format.open_memmap(f"{out}/x.npy", mode="w+", dtype=np.float32, shape=(n, 32))
    y = np.lib.format.open_memmap(f"{out}/y.npy", mode="w+", dtype=np.int64, shape=(n,))
    chunk = 1 << 18
    for begin in range(0, n, chunk):
        end = min(n, begin + chunk)
        xs = rng.standard_normal((end - begin, 32)).astype(np.float32)
        x[begin:end] = xs
        y[begin:end] = (xs @ w).argmax(axis=1)
    x.flush()
    y.flush()


if __name__ == "__main__":
    main()
