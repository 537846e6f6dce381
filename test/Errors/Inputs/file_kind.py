"""usage: file_kind.py PATH... -- prints 'PATH: KIND' per path (without
following symbolic links), KIND one of missing, file, directory, symlink,
fifo, chardev, other; for files also their size, so a test can check that
a refused output left everything as it was."""
import os
import stat
import sys

for path in sys.argv[1:]:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        print(f"{os.path.basename(path)}: missing")
        continue
    kind = ("file" if stat.S_ISREG(mode) else "directory" if stat.S_ISDIR(mode)
            else "symlink" if stat.S_ISLNK(mode) else "fifo" if stat.S_ISFIFO(mode)
            else "chardev" if stat.S_ISCHR(mode) else "other")
    size = f" {os.path.getsize(path)} bytes" if kind == "file" else ""
    print(f"{os.path.basename(path)}: {kind}{size}")
