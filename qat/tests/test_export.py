"""The exporter: model.safetensors read back by an independent reader (only
struct, json and numpy, following the published format), config.json's
hunyuan_v1_dense fields, tokenizer files; the bf16 writer against torch."""
import json
import struct

import numpy as np
import torch

from hyqat import checkpoint, export, safetensors_writer
from hyqat.model import HunyuanDense
from conftest import TOY


def read_safetensors(path):
    """Independent reader: returns (metadata, {name: np.ndarray})."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header length should keep the data 8-byte aligned"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": "<f4", "F16": "<f2", "I32": "<i4"}
    out, end = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, e = info["data_offsets"]
        assert b == end, f"{name}: gap or overlap at {b}"
        end = e
        if info["dtype"] == "BF16":
            a = (np.frombuffer(data[b:e], "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(data[b:e], dtypes[info["dtype"]])
        out[name] = a.reshape(info["shape"])
    assert end == len(data), "trailing bytes after the last tensor"
    return meta, out


def make_checkpoint(tmp_path, quantized):
    cfg = {k: TOY[k] for k in ("n_embd", "n_layer", "n_head", "n_head_kv", "head_dim", "n_ff", "rms_eps",
                               "rope_base", "n_ctx")}
    cfg["n_vocab"] = 300
    torch.manual_seed(0)
    m = HunyuanDense(cfg)
    if quantized:
        m.set_mode("seq")
    path = tmp_path / "m.pt"
    checkpoint.save(str(path), m, cfg, "qat" if quantized else "teacher", 1, 1)
    return path, cfg


def test_safetensors_round_trip_and_config(tmp_path, small_corpus):
    from hyqat.tokenizer import Vocab
    vocab = Vocab.load(str(small_corpus / "vocab.json"))
    path, cfg = make_checkpoint(tmp_path, quantized=True)
    state = torch.load(path)
    state["config"]["n_vocab"] = len(vocab)
    m = HunyuanDense(state["config"])
    m.set_mode("seq")
    torch.save(dict(state, config=state["config"], model=m.state_dict()), path)
    out = tmp_path / "hf"
    export.export(str(path), str(small_corpus / "vocab.json"), str(out))
    meta, tensors = read_safetensors(out / "model.safetensors")
    assert meta["format"] == "pt"
    want, _ = checkpoint.load_model(str(path), frozen=True)
    sd = want.state_dict()
    names = dict(export.hf_names(cfg["n_layer"]))
    assert set(tensors) == set(names.values())
    for ours, hf in names.items():
        assert np.array_equal(tensors[hf], sd[ours].numpy()), hf
    # 2-bit rows: four levels of one step per row.
    q = tensors["model.layers.0.mlp.down_proj.weight"]
    for row in q:
        assert len(np.unique(np.abs(row))) == 2
    c = json.loads((out / "config.json").read_text())
    assert c["architectures"] == ["HunYuanDenseV1ForCausalLM"] and c["model_type"] == "hunyuan_v1_dense"
    assert (c["hidden_size"], c["intermediate_size"], c["num_key_value_heads"], c["head_dim"]) == (512, 512, 2, 128)
    assert c["tie_word_embeddings"] is True and c["vocab_size"] == len(vocab)
    tj = json.loads((out / "tokenizer.json").read_text())
    n_bpe = len(tj["model"]["vocab"])
    assert n_bpe + len(tj["added_tokens"]) == len(vocab)
    assert tj["model"]["merges"] == vocab.merges
    tc = json.loads((out / "tokenizer_config.json").read_text())
    assert tc["bos_token"] == "<｜hy_begin▁of▁sentence｜>" and "<｜hy_Assistant｜>" in tc["chat_template"]


def test_bf16_and_f16_writer(tmp_path):
    a = torch.randn(7, 5).numpy()
    p = tmp_path / "x.safetensors"
    safetensors_writer.write(str(p), [("a", ("BF16", a)), ("b", a.astype(np.float16))])
    _, t = read_safetensors(p)
    assert np.array_equal(t["a"], torch.from_numpy(a).to(torch.bfloat16).float().numpy())
    assert np.array_equal(t["b"], a.astype(np.float16))
