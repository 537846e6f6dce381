"""Checks a dpc-run --metrics file against the run's progress lines.

usage: check_metrics.py METRICS.jsonl RUN.log [RUN.log...] --batches-per-epoch B --lr LR

Every 'step k/K  loss L ...' line of the logs (in order) must have a JSON
record in the same order with the same loss (to the 5e-7 of printing with 6
decimals), epoch == step / B, lr == LR, a positive grad_norm and samples_per_s and a
non-decreasing elapsed_s within a run. Prints 'checked N records'.
"""
import argparse
import json
import re
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("metrics")
    p.add_argument("logs", nargs="+")
    p.add_argument("--batches-per-epoch", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    a = p.parse_args()
    with open(a.metrics) as f:
        records = [json.loads(line) for line in f if line.strip()]
    logged = []
    for log in a.logs:
        with open(log) as f:
            for line in f:
                m = re.match(r"step \d+/\d+\s+loss (\S+)", line)
                if m:
                    logged.append(float(m.group(1)))
    failures = []
    if len(records) != len(logged):
        failures.append(f"{len(records)} records, {len(logged)} progress lines")
    for r, loss in zip(records, logged):
        for key in ["step", "epoch", "loss", "lr", "grad_norm", "samples_per_s", "elapsed_s"]:
            if key not in r:
                failures.append(f"record {r} has no '{key}'")
        if abs(r["loss"] - loss) > 5e-7 + 1e-6 * abs(loss):
            failures.append(f"step {r['step']}: loss {r['loss']} != logged {loss}")
        if abs(r["epoch"] - r["step"] / a.batches_per_epoch) > 1e-9:
            failures.append(f"step {r['step']}: epoch {r['epoch']}")
        if not (r.get("grad_norm") or 0) > 0:
            failures.append(f"step {r['step']}: grad_norm {r.get('grad_norm')}")
        if abs(r["lr"] - a.lr) > 1e-12 or r["samples_per_s"] <= 0:
            failures.append(f"step {r['step']}: lr {r['lr']}, samples/s {r['samples_per_s']}")
    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print(f"checked {len(records)} records, steps {[r['step'] for r in records]}")


if __name__ == "__main__":
    main()
