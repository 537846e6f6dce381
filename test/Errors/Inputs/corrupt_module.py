"""Runs dpc-run on corrupted copies of a compiled model.so.

usage: corrupt_module.py {truncate,flip,manifest-digit} MODULE.so WORK_DIR -- DPC_RUN_ARGS...

Every run must end with exit code 1 and one error line (no signal, no
backtrace, no hang). DPC_RUN_ARGS follow the module on dpc-run's command
line (data, --steps). Prints one summary line per corruption kind, and for
manifest-digit the error, for FileCheck.

  truncate        the module cut to 1%, 2%, ..., 99% of its size
  flip            10 copies, each with 300 bytes flipped at random positions
                  (seeded, so a failure is reproducible)
  manifest-digit  one digit of the arena size in the embedded manifest
                  changed, making it smaller
  manifest-digit-resealed
                  the same, with the checksum trailer made to match
"""
import os
import random
import struct
import subprocess
import sys


def run(dpc_run, module, args):
    proc = subprocess.run([dpc_run, module] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120,
                          errors="replace")
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    problems = []
    if proc.returncode != 1:
        problems.append(f"exit code {proc.returncode}, expected 1")
    if len(lines) != 1 or "error" not in lines[0]:
        problems.append(f"stderr is not one error line: {lines!r}")
    return problems, lines


def checksum(data):
    """dpc_checksum of runtime/include/dpc/abi.h."""
    mask = (1 << 64) - 1
    h = 0xCBF29CE484222325
    words = len(data) // 8
    for (w,) in struct.iter_unpack("<Q", data[: words * 8]):
        h = ((h ^ w) * 0x100000001B3) & mask
    for b in data[words * 8:]:
        h = ((h ^ b) * 0x100000001B3) & mask
    return h


def reseal(data):
    """Replaces the module's checksum trailer (abi.h) by one over `data`."""
    assert data[-24:-16] == b"dpcsum1\0", "no checksum trailer"
    image = data[:-24]
    return image + b"dpcsum1\0" + struct.pack("<QQ", len(image), checksum(image))


def main():
    kind, module, work = sys.argv[1:4]
    if sys.argv[4] != "--":
        sys.exit("usage: corrupt_module.py KIND MODULE.so WORK_DIR -- DPC_RUN ARGS...")
    dpc_run, args = sys.argv[5], sys.argv[6:]
    image = open(module, "rb").read()
    os.makedirs(work, exist_ok=True)
    variants = []
    if kind == "truncate":
        for percent in range(1, 100):
            variants.append((f"{percent}%", image[: len(image) * percent // 100]))
    elif kind == "flip":
        rng = random.Random(13)
        for copy in range(10):
            data = bytearray(image)
            for _ in range(300):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            variants.append((f"copy {copy}", bytes(data)))
    elif kind in ("manifest-digit", "manifest-digit-resealed"):
        # The arena's size made smaller by one digit: nothing else in the
        # manifest contradicts it, and the step writes past the end.
        start = image.index(b'"abi_version"')
        digit = image.index(b'"bytes":', image.index(b'"arena":', start)) + len(b'"bytes":')
        while not chr(image[digit]).isdigit():
            digit += 1
        data = bytearray(image)
        assert chr(data[digit + 1]).isdigit(), "arena size of one digit"
        data[digit] = ord("1") if data[digit] != ord("1") else ord("0") + 0
        if data[digit] == ord("0"):
            data[digit], data[digit + 1] = ord("1"), ord("0")
        if kind == "manifest-digit-resealed":
            # A valid checksum trailer over the patched image: only the
            # manifest hash compiled into the module can tell.
            data = reseal(bytes(data))
        variants.append(("arena size digit", bytes(data)))
    else:
        sys.exit(f"unknown corruption '{kind}'")

    failures = 0
    for name, data in variants:
        path = os.path.join(work, "corrupt.so")
        with open(path, "wb") as f:
            f.write(data)
        problems, lines = run(dpc_run, path, args)
        for p in problems:
            print(f"CORRUPT_MODULE FAILED ({kind} {name}): {p}")
            failures += 1
        if kind.startswith("manifest-digit"):
            print(lines[0] if lines else "")
    print(f"{kind}: {len(variants)} corrupted module(s), {failures} problem(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
