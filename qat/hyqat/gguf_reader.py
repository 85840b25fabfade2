"""A small GGUF reader (metadata and tensor table, no tensor data decoding).

Reads the vocabulary-only hy-vocab.gguf and checks the GGUF files the pipeline
makes. Every read is bounds-checked; a bad file raises GgufError naming the
offset and the field. Layout: the GGUF v3 spec (little-endian header, key/value
pairs, tensor infos, aligned data).
"""
import struct

# GGUF metadata value types (gguf spec, "gguf_metadata_value_type").
_SCALARS = {
    0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4),
    6: ("<f", 4), 7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8),
}
_STRING, _ARRAY = 8, 9


class GgufError(Exception):
    """A malformed or unexpected GGUF file."""


class _Cursor:
    def __init__(self, data, path):
        self.data, self.pos, self.path = data, 0, path

    def take(self, n, what):
        if n < 0 or self.pos + n > len(self.data):
            raise GgufError(f"{self.path}: {what} at offset {self.pos} needs {n} bytes, "
                            f"file has {len(self.data) - self.pos} left")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def scalar(self, fmt, size, what):
        return struct.unpack(fmt, self.take(size, what))[0]

    def string(self, what):
        n = self.scalar("<Q", 8, what + " length")
        raw = self.take(n, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise GgufError(f"{self.path}: {what} at offset {self.pos - n} is not UTF-8 ({e})") from None

    def value(self, vtype, what):
        if vtype in _SCALARS:
            return self.scalar(*_SCALARS[vtype], what)
        if vtype == _STRING:
            return self.string(what)
        if vtype == _ARRAY:
            etype = self.scalar("<I", 4, what + " element type")
            n = self.scalar("<Q", 8, what + " element count")
            if etype in _SCALARS:
                fmt, size = _SCALARS[etype]
                raw = self.take(n * size, what)
                return list(struct.unpack("<" + fmt[1] * n, raw))
            if n > len(self.data):
                raise GgufError(f"{self.path}: {what} claims {n} elements, more than the file's bytes")
            return [self.value(etype, f"{what}[{i}]") for i in range(n)]
        raise GgufError(f"{self.path}: {what} at offset {self.pos} has unknown value type {vtype}")


class GgufFile:
    """Parsed GGUF: .metadata (dict key -> value), .tensors (name -> dict of
    shape [ne0, ne1, ...], ggml type id, offset from the data start), .data_offset."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        c = _Cursor(data, path)
        magic = c.take(4, "magic")
        if magic != b"GGUF":
            raise GgufError(f"{path}: not a GGUF file (magic {magic!r} at offset 0)")
        self.version = c.scalar("<I", 4, "version")
        if self.version not in (2, 3):
            raise GgufError(f"{path}: GGUF version {self.version} is not supported (2 or 3)")
        n_tensors = c.scalar("<Q", 8, "tensor count")
        n_kv = c.scalar("<Q", 8, "metadata count")
        self.metadata = {}
        for i in range(n_kv):
            key = c.string(f"metadata key #{i}")
            vtype = c.scalar("<I", 4, f"type of '{key}'")
            self.metadata[key] = c.value(vtype, f"value of '{key}'")
        self.tensors = {}
        for i in range(n_tensors):
            name = c.string(f"tensor name #{i}")
            n_dims = c.scalar("<I", 4, f"n_dims of '{name}'")
            if n_dims > 4:
                raise GgufError(f"{path}: tensor '{name}' has {n_dims} dimensions (at most 4)")
            shape = [c.scalar("<Q", 8, f"shape of '{name}'") for _ in range(n_dims)]
            ttype = c.scalar("<I", 4, f"type of '{name}'")
            offset = c.scalar("<Q", 8, f"offset of '{name}'")
            self.tensors[name] = {"shape": shape, "type": ttype, "offset": offset}
        align = self.metadata.get("general.alignment", 32)
        self.data_offset = (c.pos + align - 1) // align * align
        self._data = data

    def tensor_bytes(self, name, nbytes):
        """Raw bytes of a tensor (the caller knows its type's size)."""
        t = self.tensors[name]
        start = self.data_offset + t["offset"]
        if start + nbytes > len(self._data):
            raise GgufError(f"tensor '{name}' at offset {start} runs past the end of the file")
        return self._data[start:start + nbytes]

    def get(self, key, default=None):
        return self.metadata.get(key, default)
