"""usage: patch_checkpoint.py CKPT.safetensors KEY VALUE -- sets the scalar
KEY (an int64 such as optimizer.step, or a float32 such as
grad_scaler.scale) of a safetensors file to VALUE in place."""
import json
import struct
import sys

path, key, value = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path, "r+b") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(n))
    entry = header[key]
    assert entry["dtype"] in ("I64", "F32") and entry["shape"] == [], entry
    f.seek(8 + n + entry["data_offsets"][0])
    if entry["dtype"] == "I64":
        f.write(struct.pack("<q", int(value)))
    else:
        f.write(struct.pack("<f", float(value)))
