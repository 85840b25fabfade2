"""Test helper: writes a minimal GGUF v3 (string/u32/f32 metadata, F32 or
F16 tensors) so `hy2bit quantize` can be fed weights without the converter."""
import struct

import numpy as np


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def write_gguf(path, tensors, metadata=None, dtype=np.float32):
    """tensors: list of (name, 2-D array (rows, cols)); ggml shape is [cols, rows]."""
    metadata = dict(metadata or {"general.architecture": "hunyuan-dense"})
    kv = b""
    for k, v in metadata.items():
        if isinstance(v, str):
            kv += _str(k) + struct.pack("<I", 8) + _str(v)
        elif isinstance(v, int):
            kv += _str(k) + struct.pack("<I", 4) + struct.pack("<I", v)
        else:
            kv += _str(k) + struct.pack("<I", 6) + struct.pack("<f", v)
    infos, blobs, offset = b"", [], 0
    ttype = 0 if dtype == np.float32 else 1
    for name, a in tensors:
        raw = np.ascontiguousarray(a, dtype=dtype).tobytes()
        infos += _str(name) + struct.pack("<I", a.ndim) + b"".join(struct.pack("<Q", d) for d in reversed(a.shape))
        infos += struct.pack("<IQ", ttype, offset)
        raw += b"\0" * (-len(raw) % 32)
        blobs.append(raw)
        offset += len(raw)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata)) + kv + infos
    head += b"\0" * (-len(head) % 32)
    with open(path, "wb") as f:
        f.write(head + b"".join(blobs))
