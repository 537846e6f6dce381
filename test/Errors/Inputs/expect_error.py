"""Runs a command that must fail cleanly, and prints its stderr.

usage: expect_error.py [--absent FILE]... [--errors N] -- COMMAND...

Fails unless the command exits with code 1 (not a crash, not a signal, not
another code), writes at most two lines to stderr (an error, plus at most
one warning; no backtrace or 'Stack dump'; with --errors N, exactly N error
lines, one per problem of a listing, plus at most one warning), and leaves each --absent FILE
nonexistent (no partial output). On success prints the command's stderr, for
FileCheck.
"""
import os
import subprocess
import sys


def main():
    args = sys.argv[1:]
    absent, errors = [], None
    while args and args[0] in ("--absent", "--errors"):
        if args[0] == "--absent":
            absent.append(args[1])
        else:
            errors = int(args[1])
        args = args[2:]
    if not args or args[0] != "--":
        sys.exit("usage: expect_error.py [--absent FILE]... [--errors N] -- COMMAND...")
    proc = subprocess.run(args[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300)
    err = proc.stderr
    problems = []
    if proc.returncode != 1:
        problems.append(f"exit code {proc.returncode}, expected 1")
    lines = [l for l in err.splitlines() if l.strip()]
    if not any("error" in l for l in lines):
        problems.append("no error message on stderr")
    if errors is None and len(lines) > 2:
        problems.append(f"{len(lines)} lines on stderr, expected one error line")
    error_lines = [l for l in lines if ": error: " in l]
    if errors is not None and (len(error_lines) != errors or
                               len(lines) > errors + 1):
        problems.append(f"{len(error_lines)} error lines and {len(lines)} lines "
                        f"on stderr, expected {errors} error lines")
    for marker in ["Stack dump", "Traceback", "terminate called", "Aborted", "#0 "]:
        if marker in err:
            problems.append(f"stderr contains '{marker}'")
    for path in absent:
        if os.path.exists(path):
            problems.append(f"'{path}' exists after the failure")
        # A temporary file left beside the output counts too.
        d = os.path.dirname(os.path.abspath(path))
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.startswith(os.path.basename(path) + ".tmp"):
                problems.append(f"temporary file '{name}' left behind")
    sys.stdout.write(err)
    for p in problems:
        print("EXPECT_ERROR FAILED:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
