"""Makes the two corrupted TorchScript files kept under test/Errors/Inputs/.

usage: make_corrupt_torchscript.py OUT_DIR

Each crashed LibTorch 1.13 inside dpc (SIGSEGV, SIGABRT) before dpc isolated
the load:
  corrupt-debug-pkl.pt  one byte of the MLP's code/__torch__.py.debug_pkl
                        flipped: a source range starting at 255 in a short
                        source, which findSourceRangeThatGenerated follows out
                        of bounds
  renamed-buffers.pt    `__buffers__` renamed in the code of nn.Linear, which
                        torch::jit::import_ir_module dereferences unchecked
The byte to flip depends on the pickle's layout (it holds this file's path),
so the files are kept rather than made at test time.
"""
import os
import sys
import zipfile

import torch


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def rewrite(src, dst, member_suffix, change):
    """Copies the zip `src` to `dst` with change(bytes) applied to the member
    ending in `member_suffix` (with a valid CRC: only the content is bad)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith(member_suffix):
                data = change(data)
            zout.writestr(info, data)


def flip_first_range_start(pickle):
    # The first source range after the first build_intlist reduce: its start
    # is the argument of a BININT1 ('K').
    at = pickle.index(b"build_intlist")
    at = pickle.index(b"tRK", at) + 3
    data = bytearray(pickle)
    data[at] ^= 0xFF
    return bytes(data)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    good = os.path.join(out, "good-mlp.pt")
    torch.jit.script(MLP()).save(good)
    rewrite(good, os.path.join(out, "corrupt-debug-pkl.pt"),
            "/code/__torch__.py.debug_pkl", flip_first_range_start)
    rewrite(good, os.path.join(out, "renamed-buffers.pt"),
            "/torch/nn/modules/linear.py",
            lambda code: code.replace(b"__buffers__", b"__buffxrs__"))
    os.remove(good)


if __name__ == "__main__":
    main()
