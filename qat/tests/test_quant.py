"""SEQ fake-quant: the grid, the STE gradients, the MSE-optimal step, and
that its export is exactly what q2_0c stores (reference quantizer in numpy
and, when built, `hy2bit quantize`)."""
import re
import subprocess

import numpy as np
import pytest
import torch

from hyqat import quant
from hyqat.gguf_model import tensor
from hyqat.gguf_reader import GgufFile
from conftest import hy2bit_or_skip
from gguf_write import write_gguf


def rows(n=16, k=1024, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(n, k, generator=g) * 0.02
    w[3] *= 50  # a row with a very different range
    return w


def test_fake_quant_is_the_seq_formula_on_four_levels():
    w = rows()
    s = quant.mse_optimal_scale(w)
    wq = quant.seq_fake_quant(w, s)
    q = torch.clamp(w / s, -0.99, 0.99)
    want = (torch.round(2 * q - 0.5) + 0.5) / 2 * s
    assert torch.equal(wq, want)
    ratio = torch.unique(torch.round(wq / s * 4))
    assert set(ratio.tolist()) == {-3.0, -1.0, 1.0, 3.0}


def test_export_is_exactly_the_q2_0c_grid():
    w = rows()
    s = quant.mse_optimal_scale(w)
    levels, d, _ = quant.export_levels(w, s)
    qdq = (levels.float() * d).numpy()
    # The export equals the fake-quant up to the fp16 rounding of d = s/4.
    wq = quant.seq_fake_quant(w, s)
    assert torch.allclose(torch.from_numpy(qdq), wq, rtol=3e-3, atol=0)
    for r in range(qdq.shape[0]):
        codes, dr = quant.q2_0c_quantize_row(qdq[r])
        assert np.float32(dr) == d[r, 0].item()
        assert np.array_equal(codes, ((levels[r].numpy() + 3) // 2).astype(np.uint8))
        assert np.array_equal(quant.q2_0c_dequantize_row(codes, dr), qdq[r])
        # f16 storage of the weights is exact too (d and 3d fit 11 bits).
        assert np.array_equal(qdq[r].astype(np.float16).astype(np.float32), qdq[r])


def test_a_row_missing_a_grid_end_gets_one():
    w = torch.full((1, 512), 0.01)
    w[0, :256] = -0.01
    w[0, 7] = 0.03  # +3 present, -3 absent
    s = torch.tensor([[0.04]])
    levels, d, fixed = quant.export_levels(w, s)
    assert fixed == 1 and (levels == -3).any() and (levels == 3).any()


def test_ste_gradients():
    w = rows(4, 512).requires_grad_(True)
    s = quant.mse_optimal_scale(w).requires_grad_(True)
    g = torch.randn(4, 512, generator=torch.Generator().manual_seed(1))
    (quant.seq_fake_quant(w, s) * g).sum().backward()
    # Round and clamp pass gradients straight through.
    assert torch.allclose(w.grad, g, atol=1e-6)
    q = quant.seq_grid(w.detach(), s.detach())
    want_s = (g * (q - w.detach() / s.detach())).sum(1, keepdim=True)
    assert torch.allclose(s.grad, want_s, rtol=1e-4, atol=1e-5)


def test_mse_optimal_scale_is_a_local_minimum_and_beats_max_abs():
    w = rows()
    s = quant.mse_optimal_scale(w)

    def err(sc):
        return ((w - quant.seq_grid(w, sc) * sc) ** 2).sum(1)

    for f in (0.95, 0.99, 1.01, 1.05):
        assert torch.all(err(s) <= err(s * f) * (1 + 1e-5))
    s_max = w.abs().amax(1, keepdim=True) / 0.75
    assert torch.all(err(s) <= err(s_max))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_hy2bit_quantize_recovers_the_codes(tmp_path, dtype):
    binary = hy2bit_or_skip()
    w = rows(8, 1024)
    s = quant.mse_optimal_scale(w)
    levels, d, _ = quant.export_levels(w, s)
    qdq = (levels.float() * d).numpy()
    src, dst = tmp_path / "in.gguf", tmp_path / "out.gguf"
    write_gguf(src, [("blk.0.ffn_up.weight", qdq)], dtype=dtype)
    p = subprocess.run([binary, "quantize", str(src), str(dst), "q2_0c"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    m = re.search(r"q2_0c: (\d+) of (\d+) rows on the 2-bit grid", p.stdout)
    assert m and m.group(1) == m.group(2) == "8", p.stdout
    g = GgufFile(str(dst))
    t = g.tensors["blk.0.ffn_up.weight"]
    assert t["type"] == 40
    raw = np.frombuffer(g.tensor_bytes("blk.0.ffn_up.weight", 8 * 2 * 130), np.uint8).reshape(8, 2, 130)
    codes = np.stack([(raw[:, :, 2:] >> sh) & 3 for sh in (0, 2, 4, 6)], axis=3).reshape(8, 1024)
    assert np.array_equal(codes, (levels.numpy() + 3) // 2)
    dd = raw[:, :, :2].copy().view("<f2").astype(np.float32)
    assert np.array_equal(dd[:, :, 0], np.repeat(d.numpy(), 2, axis=1))
    assert np.array_equal(tensor(g, "blk.0.ffn_up.weight"), qdq)
