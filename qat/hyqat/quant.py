"""The SEQ 2-bit quantizer (Stretched Elastic Quant, ParetoQ arXiv 2502.02631,
as AngelSlim trains HY-1.8B-2Bit) and its q2_0c-exact export form.

Fake-quant of a weight row w with step s (forward):
    q = clamp(w/s, -0.99, 0.99);  q = (round(2q - 0.5) + 0.5) / 2;  w_q = q * s
so w_q is on s * {-0.75, -0.25, 0.25, 0.75}. Backward: round and clamp pass
gradients straight through (dL/dw = dL/dw_q, dL/ds = sum dL/dw_q * (q - w/s)).
q2_0c stores the same grid as d * {-3, -1, 1, 3} with d = s/4 in fp16
(docs/q2_0c.md); export_levels() gives weights that file stores exactly.
"""
import numpy as np
import torch

LEVELS = (-0.75, -0.25, 0.25, 0.75)


def seq_grid(w, s):
    """The SEQ grid value q in {-0.75,-0.25,0.25,0.75} for each w (no grad)."""
    q = torch.clamp(w / s, -0.99, 0.99)
    return (torch.round(2 * q - 0.5) + 0.5) / 2


def seq_fake_quant(w, s):
    """w: (rows, k); s: (rows, 1) positive. Returns w_q with STE gradients."""
    x = w / s
    q = torch.clamp(x, -0.99, 0.99)
    q = (torch.round(2 * q - 0.5) + 0.5) / 2
    q_ste = x + (q - x).detach()
    return q_ste * s


def mse_optimal_scale(w, n_grid=64, lloyd_steps=4):
    """Per-row s minimising ||w - seq(w, s)||^2: a grid over s in
    [0.2, 1.4] * max|w| / 0.75, a finer one around the best, then Lloyd steps (s = <w,q>/<q,q> for fixed
    codes). w: (rows, k) float32. Returns (rows, 1)."""
    w = w.detach().float()
    amax = w.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / 0.75
    best_s, best_err = amax.clone(), torch.full_like(amax, float("inf"))
    # A coarse grid, then a fine one (+-3%) around each row's best.
    for center, ratios in ((amax, torch.linspace(0.2, 1.4, n_grid)), (None, torch.linspace(0.97, 1.03, 61))):
        base = best_s.clone() if center is None else center
        for r in ratios:
            s = base * r
            err = ((w - seq_grid(w, s) * s) ** 2).sum(dim=1, keepdim=True)
            better = err < best_err
            best_s, best_err = torch.where(better, s, best_s), torch.where(better, err, best_err)
    s = best_s
    for _ in range(lloyd_steps):
        q = seq_grid(w, s)
        s_new = ((w * q).sum(1, keepdim=True) / (q * q).sum(1, keepdim=True)).clamp_min(1e-12)
        err = ((w - seq_grid(w, s_new) * s_new) ** 2).sum(dim=1, keepdim=True)
        better = err < best_err
        s, best_err = torch.where(better, s_new, s), torch.where(better, err, best_err)
    return s


def snap_step(d):
    """d rounded to fp16 with 9 significant bits, so d and 3d are both exact
    in fp16 (and f32): the QDQ weights survive an f16 GGUF unchanged."""
    d16 = d.to(torch.float16).to(torch.float32)
    m, e = torch.frexp(d16)  # d16 = m * 2^e, 0.5 <= m < 1
    m = torch.round(m * 512) / 512
    return torch.ldexp(m, e).to(torch.float16).to(torch.float32)


def export_levels(w, s):
    """Integer levels (-3,-1,1,3) and the fp16-exact step d of each row, such
    that levels * d is what seq_fake_quant gives (up to d's rounding) and
    every row holds both -3 and +3 (q2_0c's quantizer takes d from the row's
    range; a row missing an end has its most extreme weight moved there).
    Returns (levels int8 (rows,k), d (rows,1) float32, n_rows_fixed)."""
    w = w.detach().float()
    s = s.detach().float().reshape(-1, 1)
    levels = torch.round(seq_grid(w, s) * 4).to(torch.int8)  # {-3,-1,1,3}
    fixed = 0
    x = w / s
    for end, pick in ((3, torch.argmax), (-3, torch.argmin)):
        missing = ~(levels == end).any(dim=1)
        if missing.any():
            rows = torch.nonzero(missing).flatten()
            cols = pick(x[rows], dim=1)
            levels[rows, cols] = end
            fixed += int(missing.sum())
    d = snap_step(s / 4)
    return levels, d, fixed


def qdq_weight(w, s):
    """The exported (dequantized) 2-bit weight, float32."""
    levels, d, _ = export_levels(w, s)
    return levels.float() * d


# ---- q2_0c reference (docs/q2_0c.md), numpy, for tests and checks ----
_CODE_OF_LEVEL = {-3: 0, -2: 1, -1: 1, 0: 1, 1: 2, 2: 2, 3: 3}


def q2_0c_quantize_row(x):
    """llama.cpp PR 19357's reference quantizer for one row (float32 array,
    length a multiple of 512): returns (codes uint8 array, d as fp16)."""
    x = np.asarray(x, dtype=np.float32)
    d = np.float32((x.max() - x.min()) / np.float32(6))
    if d == 0:
        return np.zeros(x.shape, np.uint8), np.float16(0)
    inv = np.float32(1) / d
    i = np.clip(np.rint(x * inv), -3, 3).astype(np.int64)  # rint: ties to even, as lrintf
    codes = np.vectorize(_CODE_OF_LEVEL.get)(i).astype(np.uint8)
    return codes, np.float16(d)


def q2_0c_dequantize_row(codes, d):
    return (2 * codes.astype(np.float32) - 3) * np.float32(d)
