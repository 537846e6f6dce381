"""Where a dpc step spends its time, from a `dpc-run --trace` file.

usage: trace_breakdown.py TRACE.json [--skip-steps 1] [--top 8]

Sums the compute-stream spans (one per op of the step's schedule) by op
name (`nn.matmul`, `nn.linear`, ...), leaving out the first --skip-steps
steps (warm-up: first-touch page faults, primitive creation), and prints
each op's share of the traced compute time and its mean milliseconds per
step.
"""
import argparse
import collections
import json


def main():
    p = argparse.ArgumentParser()
    p.add_argument("trace")
    p.add_argument("--skip-steps", type=int, default=1)
    p.add_argument("--top", type=int, default=8)
    a = p.parse_args()
    with open(a.trace) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    spans = [e for e in events if e.get("ph") == "X" and e.get("tid") == 0
             and e.get("args", {}).get("step", 0) > a.skip_steps]
    steps = {e["args"]["step"] for e in spans}
    by_op = collections.Counter()
    for e in spans:
        by_op[e["name"].split()[0]] += e["dur"]
    total = sum(by_op.values())
    print(f"{len(steps)} steps, {total / 1000 / len(steps):.1f} ms of traced compute per step")
    for name, dur in by_op.most_common(a.top):
        print(f"  {name:28s} {100 * dur / total:5.1f}%  {dur / 1000 / len(steps):7.2f} ms/step")


if __name__ == "__main__":
    main()
