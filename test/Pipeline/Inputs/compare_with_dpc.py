"""Checks that dpc-opt's pipeline reproduces dpc, stage by stage.

usage: compare_with_dpc.py --dpc DPC --dpc-opt DPC_OPT --model MODEL.pt
           --pipeline "OPTIONS" -- DPC_FLAGS...

Imports MODEL.pt with `dpc --emit=import DPC_FLAGS`, then for every stage of
the pipeline compares `dpc --emit=<stage> DPC_FLAGS` with
`dpc-opt IMPORT --dpc-training-pipeline="OPTIONS stop-after=<stage>"`.
Prints "<stage>: identical (N lines)" per stage, or the first lines that
differ and exits 1. Both must succeed and print a module.
"""
import argparse
import difflib
import os
import subprocess
import sys
import tempfile

STAGES = ["import", "train-step", "autodiff", "ddp", "optimizer", "buckets",
          "memory", "llvm"]


def run(command):
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300)
    if proc.returncode != 0:
        sys.exit(f"'{' '.join(command)}' failed with exit code "
                 f"{proc.returncode}:\n{proc.stderr}")
    return proc.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dpc", required=True)
    p.add_argument("--dpc-opt", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--pipeline", required=True)
    p.add_argument("flags", nargs=argparse.REMAINDER)
    a = p.parse_args()
    flags = a.flags[1:] if a.flags[:1] == ["--"] else a.flags

    with tempfile.TemporaryDirectory() as tmp:
        imported = os.path.join(tmp, "import.mlir")
        with open(imported, "w") as f:
            f.write(run([a.dpc, a.model, "--emit=import"] + flags))
        different = False
        for stage in STAGES:
            expected = run([a.dpc, a.model, f"--emit={stage}"] + flags)
            actual = run([a.dpc_opt, imported,
                          f"--dpc-training-pipeline={a.pipeline} stop-after={stage}"])
            if "module" not in expected:
                sys.exit(f"dpc --emit={stage} printed no module")
            if expected == actual:
                print(f"{stage}: identical ({len(expected.splitlines())} lines)")
                continue
            different = True
            print(f"{stage}: DIFFERENT")
            diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                        f"dpc --emit={stage}", "dpc-opt", lineterm="")
            for line in list(diff)[:40]:
                print(line)
    sys.exit(1 if different else 0)


if __name__ == "__main__":
    main()
