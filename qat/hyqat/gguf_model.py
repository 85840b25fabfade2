"""Loads a hunyuan-dense GGUF's weights into the PyTorch model by
dequantizing every tensor (F32, F16, BF16, Q8_0, Q4_0, Q6_K, q2_0c), so
PyTorch scores exactly the weights hy2bit runs. Block layouts: docs/q2_0c.md.
"""
import numpy as np
import torch

from .gguf_reader import GgufError, GgufFile
from .model import HunyuanDense

# type id -> (block elements, block bytes)
_BLOCKS = {0: (1, 4), 1: (1, 2), 30: (1, 2), 8: (32, 34), 2: (32, 18), 14: (256, 210), 40: (512, 130)}


def _f16(raw):
    return np.frombuffer(raw, dtype="<f2").astype(np.float32)


def dequantize(ttype, raw, n):
    if ttype == 0:
        return np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if ttype == 1:
        return _f16(raw)
    if ttype == 30:
        return (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
    b = np.frombuffer(raw, dtype=np.uint8)
    if ttype == 8:  # Q8_0: fp16 d, int8[32]
        blk = b.reshape(-1, 34)
        d = _f16(blk[:, :2].tobytes())[:, None]
        return (blk[:, 2:].view(np.int8).astype(np.float32) * d).reshape(-1)
    if ttype == 2:  # Q4_0: fp16 d, 16 bytes; low nibbles weights 0-15, high 16-31; (n-8)*d
        blk = b.reshape(-1, 18)
        d = _f16(blk[:, :2].tobytes())[:, None]
        qs = blk[:, 2:]
        q = np.concatenate([qs & 0xF, qs >> 4], axis=1).astype(np.float32) - 8
        return (q * d).reshape(-1)
    if ttype == 14:  # Q6_K: ql[128], qh[64], int8 scales[16], fp16 d
        blk = b.reshape(-1, 210)
        ql, qh = blk[:, :128].astype(np.int32), blk[:, 128:192].astype(np.int32)
        sc = blk[:, 192:208].view(np.int8).astype(np.float32)
        d = _f16(blk[:, 208:210].tobytes())[:, None]
        y = np.empty((blk.shape[0], 256), np.float32)
        for half in range(2):
            l_ = ql[:, 64 * half:64 * half + 64]
            h_ = qh[:, 32 * half:32 * half + 32]
            s_ = sc[:, 8 * half:8 * half + 8]
            q1 = (l_[:, :32] & 0xF) | ((h_ >> 0) & 3) << 4
            q2 = (l_[:, 32:] & 0xF) | ((h_ >> 2) & 3) << 4
            q3 = (l_[:, :32] >> 4) | ((h_ >> 4) & 3) << 4
            q4 = (l_[:, 32:] >> 4) | ((h_ >> 6) & 3) << 4
            is_ = np.arange(32) // 16
            base = 128 * half
            for k, q in enumerate((q1, q2, q3, q4)):
                y[:, base + 32 * k:base + 32 * k + 32] = d * s_[:, is_ + 2 * k] * (q - 32)
        return y.reshape(-1)
    if ttype == 40:  # q2_0c: fp16 d, qs[128]; weight j in qs[j/4] bits 2(j%4); (2c-3)*d
        blk = b.reshape(-1, 130)
        d = _f16(blk[:, :2].tobytes())[:, None]
        qs = blk[:, 2:]
        codes = np.stack([(qs >> s) & 3 for s in (0, 2, 4, 6)], axis=2).reshape(-1, 512)
        return ((2 * codes.astype(np.float32) - 3) * d).reshape(-1)
    raise GgufError(f"tensor type {ttype} is not supported by the Python reader")


def tensor(g, name):
    t = g.tensors.get(name)
    if t is None:
        raise GgufError(f"tensor '{name}' is missing")
    n = int(np.prod(t["shape"]))
    if t["type"] not in _BLOCKS:
        raise GgufError(f"tensor '{name}' has type {t['type']}, which the Python reader does not decode")
    be, bb = _BLOCKS[t["type"]]
    if n % be:
        raise GgufError(f"tensor '{name}': {n} elements are not a whole number of blocks of {be}")
    a = dequantize(t["type"], g.tensor_bytes(name, n // be * bb), n)
    return a.reshape(list(reversed(t["shape"])))


_NAMES = {"attn_norm": "attn_norm", "attn_q": "wq", "attn_k": "wk", "attn_v": "wv", "attn_output": "wo",
          "attn_q_norm": "q_norm", "attn_k_norm": "k_norm", "ffn_norm": "ffn_norm", "ffn_gate": "w_gate",
          "ffn_up": "w_up", "ffn_down": "w_down"}


def load(path, n_ctx):
    """HunyuanDense holding a GGUF's dequantized weights; also the type counts."""
    g = GgufFile(path)
    a = g.get("general.architecture")
    if a != "hunyuan-dense":
        raise GgufError(f"{path}: architecture '{a}', expected 'hunyuan-dense'")
    p = "hunyuan-dense."
    try:
        c = {"n_vocab": len(g.get("tokenizer.ggml.tokens")), "n_embd": g.get(p + "embedding_length"),
             "n_layer": g.get(p + "block_count"), "n_head": g.get(p + "attention.head_count"),
             "n_head_kv": g.get(p + "attention.head_count_kv"), "head_dim": g.get(p + "attention.key_length"),
             "n_ff": g.get(p + "feed_forward_length"), "rms_eps": g.get(p + "attention.layer_norm_rms_epsilon"),
             "rope_base": g.get(p + "rope.freq_base"), "n_ctx": n_ctx}
    except TypeError:
        raise GgufError(f"{path}: no tokenizer.ggml.tokens")
    for k, v in c.items():
        if v is None:
            raise GgufError(f"{path}: metadata for '{k}' is missing")
    if c["head_dim"] is None:
        c["head_dim"] = c["n_embd"] // c["n_head"]
    model = HunyuanDense(c)
    sd = {"embed.weight": tensor(g, "token_embd.weight"), "norm.weight": tensor(g, "output_norm.weight")}
    for i in range(c["n_layer"]):
        for gg, ours in _NAMES.items():
            sd[f"blocks.{i}.{ours}.weight"] = tensor(g, f"blk.{i}.{gg}.weight")
    if "output.weight" in g.tensors:
        raise GgufError(f"{path}: has an untied output.weight; this toolkit's models tie it")
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()})
    types = {}
    for t in g.tensors.values():
        types[t["type"]] = types.get(t["type"], 0) + 1
    return model, types
