"""hunyuan-dense in PyTorch, exactly as ../shared/docs/hy-model.md describes:
RMSNorm, GQA attention with NEOX RoPE and per-head QK-norm after RoPE,
SwiGLU FFN, tied embeddings. Linear weights are (out, in) like HF's.
QuantLinear switches between full precision and SEQ 2-bit fake-quant.
"""
import json
import math

import torch
import torch.nn.functional as F

from . import quant

CONFIG_KEYS = {"n_vocab": int, "n_embd": int, "n_layer": int, "n_head": int, "n_head_kv": int, "head_dim": int,
               "n_ff": int, "rms_eps": float, "rope_base": float, "n_ctx": int}


def load_config(path, n_vocab=None):
    """Reads and checks a model config JSON; n_vocab may come from the vocabulary."""
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except OSError as e:
        raise SystemExit(f"error: cannot read config '{path}': {e.strerror}")
    except json.JSONDecodeError as e:
        raise SystemExit(f"error: config '{path}' is not JSON: {e}")
    if n_vocab is not None:
        cfg.setdefault("n_vocab", n_vocab)
    return check_config(cfg, path)


def check_config(cfg, where="config"):
    if not isinstance(cfg, dict):
        raise SystemExit(f"error: {where}: expected a JSON object")
    model = {}
    for key, typ in CONFIG_KEYS.items():
        if key not in cfg:
            raise SystemExit(f"error: {where}: missing key '{key}'")
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (typ is int and int(v) != v) or v <= 0:
            raise SystemExit(f"error: {where}: '{key}' must be a positive {typ.__name__}, got {v!r}")
        model[key] = typ(v)
    extra = [k for k in cfg if k not in CONFIG_KEYS and k not in TRAIN_KEYS]
    if extra:
        raise SystemExit(f"error: {where}: unknown key '{extra[0]}'")
    if model["n_head"] % model["n_head_kv"]:
        raise SystemExit(f"error: {where}: n_head {model['n_head']} is not a multiple of n_head_kv {model['n_head_kv']}")
    if model["head_dim"] % 2:
        raise SystemExit(f"error: {where}: head_dim {model['head_dim']} must be even (NEOX RoPE)")
    for key in ("n_embd", "n_ff"):
        if model[key] % 512:
            raise SystemExit(f"error: {where}: '{key}' = {model[key]} is not a multiple of 512 (q2_0c rows)")
    if (model["n_head"] * model["head_dim"]) % 512:
        raise SystemExit(f"error: {where}: n_head*head_dim must be a multiple of 512 (attn_output rows)")
    train = {k: cfg[k] for k in TRAIN_KEYS if k in cfg}
    return model, train


# Training settings a config may carry (defaults in train.py).
TRAIN_KEYS = ("batch", "lr", "warmup", "weight_decay")


class RMSNorm(torch.nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight).to(x.dtype)


class QuantLinear(torch.nn.Module):
    """y = x W^T with W (out, in); mode 'fp' (plain), 'seq' (SEQ fake-quant with
    a learnable per-row step `scale`) or 'qdq' (the exported 2-bit weights)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(n_out, n_in))
        torch.nn.init.normal_(self.weight, std=0.02)
        self.mode = "fp"
        self.scale = None

    def init_scale(self):
        self.scale = torch.nn.Parameter(quant.mse_optimal_scale(self.weight.data))

    def effective_weight(self):
        if self.mode == "fp":
            return self.weight
        if self.mode == "seq":
            return quant.seq_fake_quant(self.weight, self.scale.abs() + 1e-12)
        raise ValueError(f"unknown QuantLinear mode {self.mode}")

    def forward(self, x):
        return F.linear(x, self.effective_weight().to(x.dtype))


def rope_neox(x, pos, base):
    """x: (B, H, T, D); dimension i rotates with i + D/2."""
    d = x.shape[-1]
    half = d // 2
    inv = base ** (-torch.arange(0, half, device=x.device, dtype=torch.float32) * 2 / d)
    ang = pos.float()[:, None] * inv[None, :]  # (T, half)
    cos, sin = ang.cos(), ang.sin()
    x1, x2 = x[..., :half].float(), x[..., half:].float()
    out = torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)
    return out.to(x.dtype)


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        e, hd = c["n_embd"], c["head_dim"]
        self.c = c
        self.attn_norm = RMSNorm(e, c["rms_eps"])
        self.wq = QuantLinear(e, c["n_head"] * hd)
        self.wk = QuantLinear(e, c["n_head_kv"] * hd)
        self.wv = QuantLinear(e, c["n_head_kv"] * hd)
        self.wo = QuantLinear(c["n_head"] * hd, e)
        self.q_norm = RMSNorm(hd, c["rms_eps"])
        self.k_norm = RMSNorm(hd, c["rms_eps"])
        self.ffn_norm = RMSNorm(e, c["rms_eps"])
        self.w_gate = QuantLinear(e, c["n_ff"])
        self.w_up = QuantLinear(e, c["n_ff"])
        self.w_down = QuantLinear(c["n_ff"], e)

    def forward(self, x, pos, mask):
        c = self.c
        b, t, _ = x.shape
        hd, nh, nkv = c["head_dim"], c["n_head"], c["n_head_kv"]
        h = self.attn_norm(x)
        q = self.wq(h).view(b, t, nh, hd).transpose(1, 2)
        k = self.wk(h).view(b, t, nkv, hd).transpose(1, 2)
        v = self.wv(h).view(b, t, nkv, hd).transpose(1, 2)
        q = self.q_norm(rope_neox(q, pos, c["rope_base"]))  # QK-norm after RoPE
        k = self.k_norm(rope_neox(k, pos, c["rope_base"]))
        rep = nh // nkv
        k = k.repeat_interleave(rep, dim=1)  # query head j uses KV head j // rep
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        att = att.float().masked_fill(mask, float("-inf")).softmax(-1).to(v.dtype)
        o = (att @ v).transpose(1, 2).reshape(b, t, nh * hd)
        x = x + self.wo(o)
        h = self.ffn_norm(x)
        return x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))


class HunyuanDense(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = torch.nn.Embedding(c["n_vocab"], c["n_embd"])
        torch.nn.init.normal_(self.embed.weight, std=0.02)
        self.blocks = torch.nn.ModuleList(Block(c) for _ in range(c["n_layer"]))
        self.norm = RMSNorm(c["n_embd"], c["rms_eps"])

    def linears(self):
        return [m for m in self.modules() if isinstance(m, QuantLinear)]

    def set_mode(self, mode):
        for m in self.linears():
            if mode == "seq" and m.scale is None:
                m.init_scale()
            m.mode = mode

    def forward(self, tokens):
        b, t = tokens.shape
        pos = torch.arange(t, device=tokens.device)
        mask = torch.ones(t, t, dtype=torch.bool, device=tokens.device).triu(1)
        x = self.embed(tokens)
        for blk in self.blocks:
            x = blk(x, pos, mask)
        h = self.norm(x)
        return F.linear(h, self.embed.weight.to(h.dtype))  # tied head


def freeze_qdq(model):
    """Replaces every SEQ linear weight by its exported 2-bit QDQ weight and
    switches the model to plain fp: what the exporter writes is what we score."""
    fixed = 0
    with torch.no_grad():
        for m in model.linears():
            if m.mode == "seq":
                levels, d, n = quant.export_levels(m.weight, m.scale.abs() + 1e-12)
                m.weight.copy_(levels.float() * d)
                fixed += n
                m.mode, m.scale = "fp", None
    return fixed
