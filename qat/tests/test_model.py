"""The PyTorch model is hunyuan-dense: on llama.cpp's tiny model it gives
llama.cpp's logits (testdata README tolerances), and the evaluation scores
chunks exactly like llama-perplexity."""
import math
import os

import numpy as np
import torch

from hyqat import gguf_model
from hyqat.evaluate import perplexity
from hyqat.gguf_reader import GgufFile
from conftest import TESTDATA

M = os.path.join(TESTDATA, "models")


def tokens(name):
    return [int(x) for x in open(os.path.join(TESTDATA, "logits", f"tiny-{name}.tokens")).read().split()]


def test_logits_match_llama_cpp_f16():
    model, _ = gguf_model.load(os.path.join(M, "hy-tiny-f16.gguf"), 512)
    for name in ("short", "long"):
        t = tokens(name)
        with torch.no_grad():
            y = model(torch.tensor([t]))[0].numpy()
        gold = np.fromfile(os.path.join(TESTDATA, "logits", f"hy-tiny-f16.{name}.logits.f32"), "<f4").reshape(len(t), -1)
        assert np.abs(y - gold).max() <= 0.02


def test_gguf_dequantizers_match_llama_cpp():
    d = os.path.join(TESTDATA, "dequant")
    for f, name, gold in (("hy-tiny-q2_0c", "token_embd.weight", "hy-tiny-q2_0c.token_embd.dequant.f32"),
                          ("hy-tiny-q4_0", "blk.0.attn_q.weight", "hy-tiny-q4_0.blk.0.attn_q.dequant.f32"),
                          ("hy-tiny-q8_0", "blk.0.attn_q.weight", "hy-tiny-q8_0.blk.0.attn_q.dequant.f32")):
        a = gguf_model.tensor(GgufFile(os.path.join(M, f + ".gguf")), name)
        assert np.array_equal(a, np.fromfile(os.path.join(d, gold), "<f4").reshape(a.shape)), f
    q2 = gguf_model.tensor(GgufFile(os.path.join(M, "hy-tiny-q2_0c.gguf")), "blk.1.ffn_down.weight")
    f16 = gguf_model.tensor(GgufFile(os.path.join(M, "hy-tiny-f16.gguf")), "blk.1.ffn_down.weight")
    assert np.array_equal(q2, f16)


def test_perplexity_scores_like_llama_perplexity():
    model, _ = gguf_model.load(os.path.join(M, "hy-tiny-f16.gguf"), 512)
    t = tokens("long")
    n_ctx, bos = 64, t[0]
    r = perplexity(model, t, n_ctx, bos, "cpu")
    # By hand: floor(300/64) = 4 chunks, BOS first, positions 32..62 predict 33..63.
    nll = []
    for c in range(len(t) // n_ctx):
        x = list(t[c * n_ctx:(c + 1) * n_ctx])
        x[0] = bos
        with torch.no_grad():
            lp = torch.log_softmax(model(torch.tensor([x]))[0].double(), -1)
        nll += [-float(lp[j, t[c * n_ctx + j + 1]]) for j in range(n_ctx // 2, n_ctx - 1)]
    assert r["n_scored"] == 4 * 31 == len(nll)
    assert math.isclose(r["ppl"], math.exp(sum(nll) / len(nll)), rel_tol=1e-5)
