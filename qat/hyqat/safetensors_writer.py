"""A safetensors writer (format: https://huggingface.co/docs/safetensors):
u64 little-endian header size N, N bytes of JSON header (padded with spaces
to a multiple of 8), then the tensors' bytes back to back in header order.
Header entries: name -> {"dtype", "shape", "data_offsets": [begin, end]}
relative to the data start; "__metadata__" holds string pairs.
"""
import json
import struct

import numpy as np

from .common import write_atomic

_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int32): "I32",
           np.dtype(np.int64): "I64", np.dtype(np.uint8): "U8", np.dtype(np.int8): "I8"}


def to_bf16_bytes(a):
    """float32 array -> bf16 bytes, round to nearest even (as torch does)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    nan = np.isnan(a.reshape(-1))
    out = rounded.astype(np.uint16).reshape(-1)
    out[nan] = 0x7FC0
    return out.tobytes()


def encode(tensors, metadata=None):
    """tensors: ordered list of (name, numpy array) or (name, ("BF16", float32 array)).
    Returns the file's bytes."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, arr in tensors:
        if name in header:
            raise ValueError(f"tensor '{name}' given twice")
        if isinstance(arr, tuple) and arr[0] == "BF16":
            dtype, shape, raw = "BF16", list(arr[1].shape), to_bf16_bytes(arr[1])
        else:
            a = np.ascontiguousarray(arr)
            if a.dtype not in _DTYPES:
                raise ValueError(f"tensor '{name}': dtype {a.dtype} is not supported")
            dtype, shape, raw = _DTYPES[a.dtype], list(a.shape), a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write(path, tensors, metadata=None):
    write_atomic(path, encode(tensors, metadata))
