#!/usr/bin/env python3
# Writes the seeds of fuzz_convert_inputs (fuzz/corpus/fuzz_convert_inputs/):
# small valid examples of every file `hy2bit convert` reads, each prefixed
# with the byte that picks its parser in the target (0..6). Standard library only.
import base64
import json
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_convert_inputs")


def safetensors(tensors, metadata=None):
    """tensors: name -> (dtype, shape, raw bytes); laid out in name order."""
    header, data = {}, b""
    for name, (dtype, shape, raw) in sorted(tensors.items()):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


CONFIG = {
    "architectures": ["HunYuanDenseV1ForCausalLM"], "model_type": "hunyuan_v1_dense",
    "vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
    "num_key_value_heads": 1, "head_dim": 32, "intermediate_size": 128, "rms_norm_eps": 1e-5,
    "max_position_embeddings": 4096, "rope_theta": 10000.0,
    "rope_scaling": {"alpha": 1000.0, "beta_fast": 32, "beta_slow": 1, "factor": 1.0, "type": "dynamic"},
    "tie_word_embeddings": True, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0,
    "eod_token_id": 3, "torch_dtype": "bfloat16",
}
VOCAB = {t: i for i, t in enumerate(["a", "b", "c", "ab", "abc", "Ġ", "Ġa", "bc"], start=10)}
ADDED = [{"id": 1, "content": "<s>", "special": True, "normalized": False, "lstrip": False, "rstrip": False,
          "single_word": False},
         {"id": 2, "content": "</s>", "special": True, "normalized": False, "lstrip": False, "rstrip": False,
          "single_word": False}]
TOKENIZER = {"version": "1.0", "added_tokens": ADDED, "normalizer": None,
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False},
             "post_processor": None, "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "vocab": VOCAB, "merges": ["a b", "ab c", "Ġ a", "b c"]}}
TOKENIZER_PAIRS = dict(TOKENIZER, model=dict(TOKENIZER["model"], merges=[["a", "b"], ["ab", "c"]]),
                       post_processor={"type": "TemplateProcessing",
                                       "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                                  {"Sequence": {"id": "A", "type_id": 0}},
                                                  {"SpecialToken": {"id": "</s>", "type_id": 0}}]})
TOKENIZER_CONFIG = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                    "chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}",
                    "added_tokens_decoder": {"1": {"content": "<s>", "special": True},
                                             "2": {"content": "</s>", "special": True}}}
RANKS = "".join(f"{base64.b64encode(bytes([b])).decode()} {b}\n" for b in range(97, 101)) + \
    f"{base64.b64encode(b'ab').decode()} 101\n{base64.b64encode(b'abc').decode()} 102\n"

SEEDS = {
    "safetensors_one": (0, safetensors({"model.embed_tokens.weight": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4))})),
    "safetensors_mixed": (0, safetensors({"a.weight": ("BF16", [3], b"\x80\x3f" * 3),
                                          "b.weight": ("F16", [2, 1], b"\x00\x3c" * 2),
                                          "c.scalar": ("F32", [], struct.pack("<f", 0.5))},
                                         {"format": "pt"})),
    "safetensors_index": (1, json.dumps({"metadata": {"total_size": 16}, "weight_map": {
        "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
        "lm_head.weight": "model-00002-of-00002.safetensors"}}).encode()),
    "config": (2, json.dumps(CONFIG, indent=2).encode()),
    "config_rope_parameters": (2, json.dumps(dict(
        {k: v for k, v in CONFIG.items() if k not in ("rope_scaling", "rope_theta")},
        rope_parameters={"rope_type": "xdrope", "rope_theta": 10000.0, "alpha": 1000.0})).encode()),
    "generation_config": (3, json.dumps({"bos_token_id": 1, "eos_token_id": [4, 3]}).encode()),
    "tokenizer_json": (4, json.dumps(TOKENIZER).encode()),
    "tokenizer_json_pairs": (4, json.dumps(TOKENIZER_PAIRS).encode()),
    "tokenizer_config": (5, json.dumps(TOKENIZER_CONFIG, indent=2).encode()),
    "tiktoken": (6, RANKS.encode()),
}

os.makedirs(OUT, exist_ok=True)
for name, (parser, body) in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([parser]) + body)
