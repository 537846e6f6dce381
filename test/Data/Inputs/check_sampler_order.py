"""Compares dpc's data order (dpcrt-sample-order) with PyTorch's.

For each configuration (samples N, per-rank batch B, world size W, seed,
epochs), with shuffling each rank's batches must be exactly those of
  DataLoader(range(N), batch_size=B, drop_last=D,
             sampler=DistributedSampler(range(N), W, r, shuffle=True,
                                        seed=seed, drop_last=D))
after sampler.set_epoch(e). With drop|pad = pad (D=False) PyTorch's last
batch may be smaller: dpc's must start with it and continue the sampler's
wrap-around (the epoch's permutation from its start). Without shuffling,
batch k of rank r must be samples (k*W + r)*B ... of the file, wrapping
around with pad. Prints one line per configuration and 'all orders match'.
"""

import math
import subprocess
import sys

import torch
from torch.utils.data import DataLoader, DistributedSampler

CONFIGS = [
    # N, B, W, seed, epochs
    (100, 8, 2, 0, 3),
    (1000, 16, 3, 1234, 2),
    (37, 4, 4, 7, 2),
    (5, 4, 3, 42, 2),  # padding longer than the data set
    (64, 8, 1, 3, 2),
    (20000, 500, 2, 2**31 + 5, 2),  # a seed beyond 32 bits
]


def dpc_order(tool, n, b, w, seed, epochs, mode, last):
    out = subprocess.run(
        [tool, str(n), str(b), str(w), str(seed), str(epochs), mode, last],
        check=True, capture_output=True, text=True).stdout
    order = {}
    for line in out.splitlines():
        head, indices = line.split(":")
        _, r, _, e, _, k = head.split()
        order.setdefault((int(r), int(e)), []).append(
            [int(i) for i in indices.split()])
    return order


def main():
    tool = sys.argv[1]
    failures = []
    for n, b, w, seed, epochs in CONFIGS:
        for last in ["drop", "pad"]:
            if last == "drop" and n < w * b:
                continue
            drop = last == "drop"
            nb = n // (w * b) if drop else math.ceil(n / (w * b))
            ours = dpc_order(tool, n, b, w, seed, epochs, "shuffle", last)
            for r in range(w):
                for e in range(epochs):
                    sampler = DistributedSampler(range(n), num_replicas=w, rank=r,
                                                 shuffle=True, seed=seed,
                                                 drop_last=drop)
                    sampler.set_epoch(e)
                    loader = DataLoader(range(n), batch_size=b, sampler=sampler,
                                        drop_last=drop)
                    torch_batches = [t.tolist() for t in loader]
                    got = ours.get((r, e), [])
                    where = f"N={n} B={b} W={w} seed={seed} {last} rank {r} epoch {e}"
                    if len(got) != len(torch_batches) or len(got) != nb:
                        failures.append(f"{where}: {len(got)} batches, torch has "
                                        f"{len(torch_batches)}")
                        continue
                    for k, (mine, theirs) in enumerate(zip(got, torch_batches)):
                        if mine[:len(theirs)] != theirs:
                            failures.append(f"{where} batch {k}: {mine} != {theirs}")
                    # The padding of the last batch continues the wrap-around.
                    g = torch.Generator()
                    g.manual_seed(seed + e)
                    perm = torch.randperm(n, generator=g).tolist()
                    full = [perm[p % n] for p in range(nb * w * b)]
                    if sum(got, []) != full[r::w]:
                        failures.append(f"{where}: padding differs")
            print(f"shuffle N={n} B={b} W={w} seed={seed} {last}: "
                  f"{w * epochs * nb} batches compared")
            # File order.
            ours = dpc_order(tool, n, b, w, seed, epochs, "file", last)
            for r in range(w):
                for e in range(epochs):
                    want = [[((k * w + r) * b + j) % n for j in range(b)]
                            for k in range(nb)]
                    if ours.get((r, e)) != want:
                        failures.append(f"file order N={n} {last} rank {r} epoch {e}")
    for f in failures[:20]:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print("all orders match")


if __name__ == "__main__":
    main()
