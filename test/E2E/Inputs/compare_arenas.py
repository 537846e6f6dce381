"""Compares the training-step arenas of two dpc manifests (dpc --emit=manifest).

usage: compare_arenas.py BASE.json SMALLER.json --at-most R

Prints 'arena B bytes -> S bytes (ratio S/B)' and exits 1 unless
S <= R * B: the memory plan of the second module keeps at most that
fraction of the first's bytes. The arena holds every intermediate tensor of
a step (the activations saved for the backward pass among them); parameters,
gradients' buckets and optimizer state are elsewhere.
"""
import argparse
import json


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("smaller")
    parser.add_argument("--at-most", type=float, required=True)
    args = parser.parse_args()
    base = json.load(open(args.base))["arena"]["bytes"]
    smaller = json.load(open(args.smaller))["arena"]["bytes"]
    ratio = smaller / base
    print(f"arena {base} bytes -> {smaller} bytes (ratio {ratio:.3f}, at most {args.at_most})")
    if ratio > args.at_most:
        print("FAIL: the second arena is not smaller enough")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
