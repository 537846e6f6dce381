#!/usr/bin/env python3
"""Draws the training curves of a dpc-run --metrics file as a PNG.

usage: plot-metrics.py METRICS.jsonl -o CURVES.png [--title TEXT]

METRICS.jsonl holds one JSON object per logged step, as dpc-run --metrics
writes them: "step" and "loss" (the training loss), "lr", and, when a run
evaluates, "val_loss" (and "val_accuracy"). A resumed run appends to the file,
so a step may appear twice: the later record's values win (records of one
step are merged, so an evaluation may be a record of its own). Draws the training loss
(and the validation loss where present) against the step, and the learning
rate below it. Needs matplotlib (Debian's python3-matplotlib, installed by
scripts/setup.sh).
"""

import argparse
import json
import math
import sys


def fail(message):
    print(f"plot-metrics: error: {message}", file=sys.stderr)
    sys.exit(1)


def read_metrics(path):
    records = {}
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    fail(f"{path}:{number}: not JSON ({e.msg})")
                if not isinstance(record, dict) or not isinstance(record.get("step"), int):
                    fail(f"{path}:{number}: not an object with an integer 'step'")
                records.setdefault(record["step"], {}).update(record)
    except OSError as e:
        fail(f"cannot read '{path}': {e.strerror}")
    if not records:
        fail(f"{path} has no records")
    return [records[s] for s in sorted(records)]


def series(records, key):
    """(steps, values) of the records that have a finite number under key."""
    steps, values = [], []
    for r in records:
        v = r.get(key)
        if isinstance(v, (int, float)) and math.isfinite(v):
            steps.append(r["step"])
            values.append(v)
    return steps, values


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("metrics")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--title", default=None)
    a = p.parse_args()
    records = read_metrics(a.metrics)

    import matplotlib

    matplotlib.use("Agg")  # no display: write files only
    import matplotlib.pyplot as plt

    fig, (loss_ax, lr_ax) = plt.subplots(2, 1, sharex=True, figsize=(8, 6),
                                         gridspec_kw={"height_ratios": [3, 1]})
    steps, losses = series(records, "loss")
    loss_ax.plot(steps, losses, label="training loss")
    val_steps, val_losses = series(records, "val_loss")
    if val_steps:
        loss_ax.plot(val_steps, val_losses, "o-", label="validation loss")
    loss_ax.set_ylabel("loss")
    loss_ax.grid(True, alpha=0.3)
    loss_ax.legend()
    loss_ax.set_title(a.title or a.metrics)
    lr_steps, lrs = series(records, "lr")
    lr_ax.plot(lr_steps, lrs, color="tab:green")
    lr_ax.set_ylabel("learning rate")
    lr_ax.set_xlabel("step")
    lr_ax.grid(True, alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(a.output, format="png")
    except OSError as e:
        fail(f"cannot write '{a.output}': {e.strerror}")
    print(f"wrote {a.output}: {len(steps)} training and {len(val_steps)} validation points")


if __name__ == "__main__":
    main()
