// The hunyuan-dense tensor table: HF name -> GGUF name and shape. Shapes are
// HF's [out, in]; GGUF stores the same bytes with ne reversed ({in, out}).
#include "convert/tensor_names.h"

#include <charconv>

namespace hy2bit::convert {
namespace {

struct LayerTensor {
  std::string_view hf_suffix;   // after "model.layers.N."
  std::string_view gguf_stem;   // after "blk.N."
};
constexpr LayerTensor kLayerTensors[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.query_layernorm.weight", "attn_q_norm.weight"},
    {"self_attn.key_layernorm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

std::vector<uint64_t> layer_shape(std::string_view stem, const HfConfig& c) {
  const auto h = static_cast<uint64_t>(c.hidden_size);
  const auto hd = static_cast<uint64_t>(c.effective_head_dim());
  const auto q = static_cast<uint64_t>(c.n_head) * hd;
  const auto kv = static_cast<uint64_t>(c.effective_n_head_kv()) * hd;
  const auto ff = static_cast<uint64_t>(c.n_ff);
  if (stem == "attn_norm.weight" || stem == "ffn_norm.weight") return {h};
  if (stem == "attn_q.weight") return {q, h};
  if (stem == "attn_k.weight" || stem == "attn_v.weight") return {kv, h};
  if (stem == "attn_output.weight") return {h, q};
  if (stem == "attn_q_norm.weight" || stem == "attn_k_norm.weight") return {hd};
  if (stem == "ffn_gate.weight" || stem == "ffn_up.weight") return {ff, h};
  return {h, ff};  // ffn_down
}

}  // namespace

std::optional<MappedName> map_tensor_name(std::string_view n, const HfConfig& c) {
  const auto v = static_cast<uint64_t>(c.vocab_size);
  const auto h = static_cast<uint64_t>(c.hidden_size);
  if (n == "model.embed_tokens.weight") return MappedName{"token_embd.weight", {v, h}, false};
  if (n == "model.norm.weight") return MappedName{"output_norm.weight", {h}, false};
  if (n == "lm_head.weight") return MappedName{"output.weight", {v, h}, false};
  constexpr std::string_view kPrefix = "model.layers.";
  if (!n.starts_with(kPrefix)) return std::nullopt;
  n.remove_prefix(kPrefix.size());
  const size_t dot = n.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot > 6) return std::nullopt;
  int64_t layer = -1;
  const auto [end, ec] = std::from_chars(n.data(), n.data() + dot, layer);
  if (ec != std::errc() || end != n.data() + dot || (dot > 1 && n[0] == '0') || layer < 0 || layer >= c.n_layer)
    return std::nullopt;
  const std::string_view suffix = n.substr(dot + 1);
  for (const LayerTensor& t : kLayerTensors) {
    if (suffix != t.hf_suffix) continue;
    std::vector<uint64_t> shape = layer_shape(t.gguf_stem, c);
    const bool linear = shape.size() == 2;
    return MappedName{"blk." + std::to_string(layer) + "." + std::string(t.gguf_stem), std::move(shape), linear};
  }
  return std::nullopt;
}

bool is_ignored_tensor(std::string_view n) {
  return n.ends_with(".attention.masked_bias") || n.ends_with(".attention.bias") || n.ends_with(".rotary_emb.inv_freq");
}

std::vector<std::string> required_gguf_names(const HfConfig& c) {
  std::vector<std::string> names = {"token_embd.weight", "output_norm.weight"};
  if (!c.tie_word_embeddings) names.push_back("output.weight");
  for (int64_t i = 0; i < c.n_layer; ++i)
    for (const LayerTensor& t : kLayerTensors) names.push_back("blk." + std::to_string(i) + "." + std::string(t.gguf_stem));
  return names;
}

}  // namespace hy2bit::convert
