"""Checks a Chrome trace written by `dpc-run --trace` against the manifest.

usage: check_trace.py TRACE.json --ranks N --steps K --model MODEL.so-manifest.json

Asserts: the file is valid trace-event JSON; each rank has a compute and a
communication track; each step of each rank has one compute event per op of
the compiled schedule, named by the op; each bucket of the manifest is
all-reduced once per step on the communication track, with the manifest's
size; and causality of the compiled schedule: a bucket's all-reduce begins
no earlier than the compute stream's dp.all_reduce_start of that bucket
began, and ends before the compute stream's dp.wait of that bucket ends.
Prints a summary line for FileCheck.
"""
import argparse
import json
import sys
from collections import defaultdict


def main():
    p = argparse.ArgumentParser()
    p.add_argument("trace")
    p.add_argument("--ranks", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--manifest", required=True)
    a = p.parse_args()
    trace = json.load(open(a.trace))
    manifest = json.load(open(a.manifest))
    events = trace["traceEvents"]
    problems = []

    names = {(e["pid"], e.get("tid")): e["args"]["name"] for e in events if e["ph"] == "M"}
    for r in range(a.ranks):
        if names.get((r, None)) != f"rank {r}":
            problems.append(f"no process name for rank {r}")
        if names.get((r, 0)) != "compute stream" or names.get((r, 1)) != "communication stream":
            problems.append(f"rank {r} lacks its compute/communication tracks")

    schedule = manifest["schedule"]
    buckets = {b["index"]: b["bytes"] for b in manifest["buckets"]}
    per = defaultdict(list)  # (rank, step, track) -> events
    for e in events:
        if e["ph"] == "X":
            per[(e["pid"], e["args"]["step"], e["tid"])].append(e)
    collectives = 0
    for r in range(a.ranks):
        for s in range(1, a.steps + 1):
            compute = sorted(per[(r, s, 0)], key=lambda e: e["ts"])
            if len(compute) != len(schedule):
                problems.append(f"rank {r} step {s}: {len(compute)} compute events, "
                                f"schedule has {len(schedule)} ops")
                continue
            for e, op in zip(compute, schedule):
                if not e["name"].startswith(op["op"]):
                    problems.append(f"rank {r} step {s}: event '{e['name']}' is not op {op['op']}")
            comm = per[(r, s, 1)]
            if a.ranks == 1:
                continue
            if sorted(int(e["name"].split()[-1]) for e in comm) != sorted(buckets):
                problems.append(f"rank {r} step {s}: all-reduces {[e['name'] for e in comm]}")
                continue
            for e in comm:
                k = int(e["name"].split()[-1])
                collectives += 1
                if e["args"]["bytes"] != buckets[k]:
                    problems.append(f"bucket {k}: {e['args']['bytes']} bytes, manifest says {buckets[k]}")
                start = next(c for c, op in zip(compute, schedule)
                             if op["op"] == "dp.all_reduce_start" and op["bucket"] == k)
                wait = next(c for c, op in zip(compute, schedule)
                            if op["op"] == "dp.wait" and op["bucket"] == k)
                if e["ts"] < start["ts"]:
                    problems.append(f"rank {r} step {s}: bucket {k} reduced before its start")
                if e["ts"] + e["dur"] > wait["ts"] + wait["dur"] + 1.0:
                    problems.append(f"rank {r} step {s}: bucket {k} finished after its wait")
    for pr in problems[:20]:
        print("FAIL:", pr)
    print(f"trace: {a.ranks} ranks, {a.steps} steps, {len(schedule)} ops per step, "
          f"{collectives} bucket all-reduces checked")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
