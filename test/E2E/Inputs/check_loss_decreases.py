"""Checks a dpc-run log: every step's loss is finite and the last one is
below the first.

usage: check_loss_decreases.py RUN.log --steps K
"""
import argparse
import math
import re
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("log")
    p.add_argument("--steps", type=int, required=True)
    a = p.parse_args()
    losses = []
    with open(a.log) as f:
        for line in f:
            m = re.match(r"step (\d+)/\d+\s+loss (\S+)", line)
            if m:
                losses.append(float(m.group(2)))
    failures = []
    if len(losses) != a.steps:
        failures.append(f"log has {len(losses)} loss lines, expected {a.steps}")
    if not all(math.isfinite(v) for v in losses):
        failures.append(f"non-finite loss: {losses}")
    elif losses and not losses[-1] < losses[0]:
        failures.append(f"the loss did not go down: {losses}")
    print(f"{len(losses)} finite losses, from {losses[0]:.4f} to {losses[-1]:.4f}"
          if losses and not failures else "no usable losses")
    for f_ in failures:
        print("FAIL:", f_)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
