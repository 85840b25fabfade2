#!/usr/bin/python3
"""Writes the GGUF seeds of the fuzz corpora from the tiny test models.

The test models (../shared/testdata/models, 1.6-10 MB) are too big for a seed
corpus, so this keeps their metadata (the 1000-token vocabulary, merges, chat
template) and writes:
  fuzz/data/hy-tiny-vocab.gguf            header + metadata, no tensors (the
                                          vocabulary the tokenize and chat targets load)
  fuzz/corpus/fuzz_gguf_model/*.gguf      micro models: the real keys with small
                                          shapes and a 16-token vocabulary, one
                                          per tensor type, that bind completely
  fuzz/corpus/fuzz_tokenizer_gguf/*.gguf  the vocabulary, whole and trimmed
Run with Debian's python3 from the repository root; output is deterministic.
"""
import os
import struct
import sys

MODELS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "testdata", "models")
FUZZ = os.path.dirname(os.path.abspath(__file__))

# GGUF value types.
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "?",
          U64: "Q", I64: "q", F64: "d"}
# Tensor types: id, elements per block, bytes per block.
TYPES = {"f32": (0, 1, 4), "f16": (1, 1, 2), "bf16": (30, 1, 2), "q8_0": (8, 32, 34),
         "q4_0": (2, 32, 18), "q6_k": (14, 256, 210), "q2_0c": (40, 512, 130)}


def read_gguf_metadata(path):
    """[(key, type, value)] of a GGUF file; arrays are (elem_type, [values])."""
    b = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, b, pos)[0]
        pos += struct.calcsize("<" + fmt)
        return v

    def string():
        nonlocal pos
        n = take("Q")
        s = b[pos:pos + n]
        pos += n
        return s

    def value(t):
        if t in SCALAR:
            return take(SCALAR[t])
        if t == STR:
            return string()
        et, n = take("I"), take("Q")
        return (et, [value(et) for _ in range(n)])

    assert b[:4] == b"GGUF"
    pos = 4
    take("I")
    take("Q")
    n_kv = take("Q")
    out = []
    for _ in range(n_kv):
        k = string().decode()
        t = take("I")
        out.append((k, t, value(t)))
    return out


def encode_value(t, v):
    if t in SCALAR:
        return struct.pack("<" + SCALAR[t], v)
    if t == STR:
        return struct.pack("<Q", len(v)) + v
    et, items = v
    return struct.pack("<IQ", et, len(items)) + b"".join(encode_value(et, x) for x in items)


def write_gguf(path, metadata, tensors):
    """metadata: [(key, type, value)]; tensors: [(name, [ne...], type_name, data)]."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata)))
    for k, t, v in metadata:
        kb = k.encode()
        out += struct.pack("<Q", len(kb)) + kb + struct.pack("<I", t) + encode_value(t, v)
    offset = 0
    for name, ne, type_name, data in tensors:
        nb = name.encode()
        out += struct.pack("<Q", len(nb)) + nb + struct.pack("<I", len(ne))
        out += b"".join(struct.pack("<Q", x) for x in ne)
        out += struct.pack("<IQ", TYPES[type_name][0], offset)
        offset += (len(data) + 31) // 32 * 32
    out += bytes(-len(out) % 32)
    for _, _, _, data in tensors:
        out += data + bytes(-len(data) % 32)
    with open(path, "wb") as f:
        f.write(out)
    return len(out)


def tensor_bytes(type_name, ne):
    _, block_elems, block_bytes = TYPES[type_name]
    n = 1
    for x in ne:
        n *= x
    assert n % block_elems == 0, (type_name, ne)
    return n // block_elems * block_bytes


def tensor(name, ne, type_name):
    """A tensor of zeros (f32 ones for norms: a valid value of every type)."""
    if type_name == "f32":
        return (name, ne, type_name, struct.pack("<f", 1.0) * (tensor_bytes(type_name, ne) // 4))
    return (name, ne, type_name, bytes(tensor_bytes(type_name, ne)))


def with_values(metadata, changes, drop=()):
    out = []
    for k, t, v in metadata:
        if k in drop:
            continue
        if k in changes:
            t, v = changes.pop(k)
        out.append((k, t, v))
    out += [(k, t, v) for k, (t, v) in changes.items()]
    return out


def trimmed_vocab(metadata, n_vocab):
    """The first n_vocab tokens; merges only among them; special ids below n_vocab."""
    meta = dict((k, (t, v)) for k, t, v in metadata)
    tokens = meta["tokenizer.ggml.tokens"][1][1][:n_vocab]
    kept = set(tokens)
    merges = [m for m in meta["tokenizer.ggml.merges"][1][1]
              if all(p in kept for p in m.split(b" ")) and m.replace(b" ", b"") in kept]
    return {
        "tokenizer.ggml.tokens": (ARR, (STR, tokens)),
        "tokenizer.ggml.token_type": (ARR, (I32, meta["tokenizer.ggml.token_type"][1][1][:n_vocab])),
        "tokenizer.ggml.merges": (ARR, (STR, merges)),
        "tokenizer.ggml.bos_token_id": (U32, n_vocab - 2),
        "tokenizer.ggml.eos_token_id": (U32, n_vocab - 1),
        "tokenizer.ggml.padding_token_id": (U32, n_vocab - 1),
    }


def micro_model(metadata, path, shape, types, n_layer):
    """A complete hunyuan-dense model with the given small shape and per-role tensor types."""
    n_embd, n_ff, n_head, n_head_kv, head_dim, n_vocab = shape
    changes = {
        "hunyuan-dense.block_count": (U32, n_layer),
        "hunyuan-dense.embedding_length": (U32, n_embd),
        "hunyuan-dense.feed_forward_length": (U32, n_ff),
        "hunyuan-dense.attention.head_count": (U32, n_head),
        "hunyuan-dense.attention.head_count_kv": (U32, n_head_kv),
        "hunyuan-dense.attention.key_length": (U32, head_dim),
        "hunyuan-dense.attention.value_length": (U32, head_dim),
        "hunyuan-dense.context_length": (U32, 64),
        "hunyuan-dense.rope.scaling.original_context_length": (U32, 64),
    }
    changes.update(trimmed_vocab(metadata, n_vocab))
    meta = with_values(metadata, changes, drop={"tokenizer.chat_template"})
    q_dim, kv_dim = n_head * head_dim, n_head_kv * head_dim
    t = [tensor("output_norm.weight", [n_embd], "f32"),
         tensor("token_embd.weight", [n_embd, n_vocab], types["embd"])]
    for il in range(n_layer):
        p = f"blk.{il}."
        t += [tensor(p + "attn_norm.weight", [n_embd], "f32"),
              tensor(p + "attn_q.weight", [n_embd, q_dim], types["in"]),
              tensor(p + "attn_k.weight", [n_embd, kv_dim], types["in"]),
              tensor(p + "attn_v.weight", [n_embd, kv_dim], types["in"]),
              tensor(p + "attn_output.weight", [q_dim, n_embd], types["out"]),
              tensor(p + "attn_q_norm.weight", [head_dim], "f32"),
              tensor(p + "attn_k_norm.weight", [head_dim], "f32"),
              tensor(p + "ffn_norm.weight", [n_embd], "f32"),
              tensor(p + "ffn_gate.weight", [n_embd, n_ff], types["in"]),
              tensor(p + "ffn_up.weight", [n_embd, n_ff], types["in"]),
              tensor(p + "ffn_down.weight", [n_ff, n_embd], types["out"])]
    if types.get("output"):
        t.append(tensor("output.weight", [n_embd, n_vocab], types["output"]))
    return write_gguf(path, meta, t)


def main():
    metadata = read_gguf_metadata(os.path.join(MODELS, "hy-tiny-q2_0c.gguf"))
    sizes = {}

    def put(rel, n):
        sizes[rel] = n

    os.makedirs(os.path.join(FUZZ, "data"), exist_ok=True)
    put("data/hy-tiny-vocab.gguf", write_gguf(os.path.join(FUZZ, "data", "hy-tiny-vocab.gguf"), metadata, []))

    d = os.path.join(FUZZ, "corpus", "fuzz_gguf_model")
    os.makedirs(d, exist_ok=True)
    small = (64, 32, 2, 1, 32, 16)   # n_embd, n_ff, n_head, n_head_kv, head_dim, n_vocab
    for name in ("f32", "f16", "bf16", "q8_0", "q4_0"):
        n_layer = 1 if name == "f32" else 2
        types = {"embd": name, "in": name, "out": name}
        put(f"{name}", micro_model(metadata, os.path.join(d, f"micro-{name}.gguf"), small, types, n_layer))
    # 2-bit and k-quant rows need 512 and 256 columns: wide inputs, narrow outputs.
    wide = (512, 8, 1, 1, 8, 16)
    put("q2_0c", micro_model(metadata, os.path.join(d, "micro-q2_0c.gguf"), wide,
                             {"embd": "q6_k", "in": "q2_0c", "out": "f16", "output": "q8_0"}, 2))
    put("q6_k", micro_model(metadata, os.path.join(d, "micro-q6_k.gguf"), (256, 8, 1, 1, 8, 16),
                            {"embd": "q6_k", "in": "q6_k", "out": "bf16"}, 1))
    put("meta", write_gguf(os.path.join(d, "hy-tiny-metadata.gguf"), metadata, []))

    d = os.path.join(FUZZ, "corpus", "fuzz_tokenizer_gguf")
    os.makedirs(d, exist_ok=True)
    put("vocab", write_gguf(os.path.join(d, "hy-tiny-vocab.gguf"), metadata, []))
    for n in (300, 64):
        put(f"vocab{n}", write_gguf(os.path.join(d, f"hy-tiny-vocab-{n}.gguf"),
                                    with_values(metadata, trimmed_vocab(metadata, n),
                                                drop={"tokenizer.chat_template"}), []))
    for k, v in sizes.items():
        print(f"{k}: {v} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
