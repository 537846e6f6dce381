"""Runs an MPI job that must fail, and fail in time.

usage: expect_job_failure.py --within SECONDS -- COMMAND...

Fails if the job runs longer than SECONDS (it hung: it is killed) or exits
with code 0. On success prints the job's "error:" lines (stdout and stderr
of every rank), sorted, for FileCheck.
"""
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    if len(args) < 4 or args[0] != "--within" or args[2] != "--":
        sys.exit("usage: expect_job_failure.py --within SECONDS -- COMMAND...")
    within = float(args[1])
    start = time.monotonic()
    try:
        proc = subprocess.run(args[3:], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors="replace", timeout=within)
    except subprocess.TimeoutExpired as e:
        out = e.output.decode(errors="replace") if isinstance(e.output, bytes) else (e.output or "")
        sys.stdout.write(out)
        print(f"EXPECT_JOB_FAILURE FAILED: still running after {within} s (hung)")
        sys.exit(1)
    elapsed = time.monotonic() - start
    errors = sorted(l for l in proc.stdout.splitlines() if "error:" in l)
    sys.stdout.write("".join(l + "\n" for l in errors))
    if proc.returncode == 0:
        print("EXPECT_JOB_FAILURE FAILED: the job exited with code 0")
        sys.exit(1)
    print(f"job failed with code {proc.returncode} within {within} s"
          f" (took {elapsed:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
