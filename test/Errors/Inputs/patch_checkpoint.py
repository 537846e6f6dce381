"""usage: patch_checkpoint.py CKPT.safetensors KEY VALUE -- sets the int64
scalar KEY (e.g. optimizer.step) of a safetensors file to VALUE in place."""
import json
import struct
import sys

path, key, value = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "r+b") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(n))
    entry = header[key]
    assert entry["dtype"] == "I64" and entry["shape"] == [], entry
    f.seek(8 + n + entry["data_offsets"][0])
    f.write(struct.pack("<q", value))
