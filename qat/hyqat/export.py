"""Export stage: a checkpoint -> a Hugging Face style folder that
`hy2bit convert` (and HF transformers' hunyuan_v1_dense) reads:
  config.json            hunyuan_v1_dense fields, HunYuanDenseV1ForCausalLM
  tokenizer.json         byte-level BPE, the three hunyuan-dense Split regexes
  tokenizer_config.json  special tokens and the Hunyuan chat template
  model.safetensors      written by safetensors_writer.py
2-bit models are written as QDQ weights (levels * fp16 step, both grid ends
in every row), so `hy2bit quantize ... q2_0c` is lossless on them.
"""
import argparse
import json
import os

from . import checkpoint, common
from .tokenizer import CONTROL, HF_PRE_TOKENIZER_PATTERNS, USER_DEFINED, Vocab
from . import safetensors_writer

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}<｜hy_place▁holder▁no▁3｜>"
    "{% elif message['role'] == 'user' %}<｜hy_User｜>{{ message['content'] }}"
    "{% elif message['role'] == 'assistant' %}<｜hy_Assistant｜>{{ message['content'] }}<｜hy_place▁holder▁no▁2｜>"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<｜hy_Assistant｜>"
    "{% if enable_thinking is defined and not enable_thinking %}<think>\n\n</think>\n{% endif %}{% endif %}")


def hf_names(n_layer):
    """(our state_dict name, HF name) pairs, in file order."""
    pairs = [("embed.weight", "model.embed_tokens.weight")]
    for i in range(n_layer):
        b, h = f"blocks.{i}.", f"model.layers.{i}."
        pairs += [(b + "attn_norm.weight", h + "input_layernorm.weight"),
                  (b + "wq.weight", h + "self_attn.q_proj.weight"),
                  (b + "wk.weight", h + "self_attn.k_proj.weight"),
                  (b + "wv.weight", h + "self_attn.v_proj.weight"),
                  (b + "wo.weight", h + "self_attn.o_proj.weight"),
                  (b + "q_norm.weight", h + "self_attn.query_layernorm.weight"),
                  (b + "k_norm.weight", h + "self_attn.key_layernorm.weight"),
                  (b + "ffn_norm.weight", h + "post_attention_layernorm.weight"),
                  (b + "w_gate.weight", h + "mlp.gate_proj.weight"),
                  (b + "w_up.weight", h + "mlp.up_proj.weight"),
                  (b + "w_down.weight", h + "mlp.down_proj.weight")]
    pairs.append(("norm.weight", "model.norm.weight"))
    return pairs


def hf_config(c, vocab):
    return {
        "architectures": ["HunYuanDenseV1ForCausalLM"], "model_type": "hunyuan_v1_dense",
        "vocab_size": c["n_vocab"], "hidden_size": c["n_embd"], "intermediate_size": c["n_ff"],
        "num_hidden_layers": c["n_layer"], "num_attention_heads": c["n_head"],
        "num_key_value_heads": c["n_head_kv"], "head_dim": c["head_dim"], "hidden_act": "silu",
        "max_position_embeddings": c["n_ctx"], "rms_norm_eps": c["rms_eps"], "rope_theta": c["rope_base"],
        "rope_scaling": None, "attention_bias": False, "mlp_bias": False, "attention_dropout": 0.0,
        "use_qk_norm": True, "tie_word_embeddings": True, "initializer_range": 0.02, "use_cache": True,
        "bos_token_id": vocab.bos, "eos_token_id": vocab.eos, "eod_token_id": vocab.eos,
        "pad_token_id": vocab.pad,
        "torch_dtype": "float32", "transformers_version": "4.56.0",
    }


def tokenizer_json(vocab):
    n_bpe = min(i for i, t in enumerate(vocab.types) if t in (CONTROL, USER_DEFINED))
    added = [{"id": i, "content": vocab.tokens[i], "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": vocab.types[i] == CONTROL}
             for i in range(n_bpe, len(vocab))]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": p}, "behavior": "Isolated", "invert": False}
            for p in HF_PRE_TOKENIZER_PATTERNS] + [
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": vocab.tokens[vocab.bos], "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": vocab.tokens[vocab.bos], "type_id": 0}},
                                    {"Sequence": {"id": "A", "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {vocab.tokens[vocab.bos]: {"id": vocab.tokens[vocab.bos],
                                                                         "ids": [vocab.bos],
                                                                         "tokens": [vocab.tokens[vocab.bos]]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(vocab.tokens[:n_bpe])}, "merges": vocab.merges},
    }


def tokenizer_config(vocab):
    added = {str(i): {"content": vocab.tokens[i], "lstrip": False, "normalized": False, "rstrip": False,
                      "single_word": False, "special": vocab.types[i] == CONTROL}
             for i, t in enumerate(vocab.types) if t in (CONTROL, USER_DEFINED)}
    return {"add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": added,
            "bos_token": vocab.tokens[vocab.bos], "eos_token": vocab.tokens[vocab.eos],
            "pad_token": vocab.tokens[vocab.pad] if vocab.pad is not None else None,
            "clean_up_tokenization_spaces": False, "model_max_length": 1 << 20,
            "tokenizer_class": "PreTrainedTokenizerFast", "chat_template": CHAT_TEMPLATE}


def export(ckpt_path, vocab_path, out_dir, dtype="f32"):
    model, state = checkpoint.load_model(ckpt_path, frozen=True)
    vocab = Vocab.load(vocab_path)
    c = state["config"]
    if c["n_vocab"] != len(vocab):
        raise SystemExit(f"error: model n_vocab {c['n_vocab']} != vocabulary size {len(vocab)} ('{vocab_path}')")
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    tensors = []
    for ours, hf in hf_names(c["n_layer"]):
        a = sd[ours]
        if dtype == "bf16":
            tensors.append((hf, ("BF16", a)))
        else:
            tensors.append((hf, a.astype("float16" if dtype == "f16" else "float32")))
    os.makedirs(out_dir, exist_ok=True)
    safetensors_writer.write(os.path.join(out_dir, "model.safetensors"), tensors,
                             {"format": "pt", "hyqat_stage": state["stage"]})
    for name, obj in (("config.json", hf_config(c, vocab)), ("tokenizer.json", tokenizer_json(vocab)),
                      ("tokenizer_config.json", tokenizer_config(vocab)),
                      ("generation_config.json", {"bos_token_id": vocab.bos, "eos_token_id": vocab.eos,
                                                  "do_sample": True, "temperature": 0.7, "top_k": 20,
                                                  "top_p": 0.8, "repetition_penalty": 1.05})):
        common.write_atomic(os.path.join(out_dir, name), json.dumps(obj, ensure_ascii=False, indent=1))
    return state


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hyqat export", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="a stage's .pt (teacher.pt, qat2.pt, ...)")
    ap.add_argument("out_dir", help="HF folder to write")
    ap.add_argument("--vocab", default="build/qat/vocab.json", help="vocabulary (default: %(default)s)")
    ap.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32",
                    help="tensor type in model.safetensors (default: %(default)s; 2-bit QDQ weights are exact in f32 and f16)")
    args = ap.parse_args(argv)
    state = export(args.checkpoint, args.vocab, args.out_dir, args.dtype)
    print(f"export: {state['stage']} ({args.checkpoint}) -> {args.out_dir} ({args.dtype})")


if __name__ == "__main__":
    main()
