// A Hugging Face config.json, read into the hyper-parameters the hunyuan-dense
// converter carries into GGUF. Parsing works from a string (fuzzable); only
// HunYuanDenseV1ForCausalLM is accepted, any other architecture is refused
// by name. "text_config" members override the top level, as in llama.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit::convert {

inline constexpr std::string_view kHunyuanDenseArchitecture = "HunYuanDenseV1ForCausalLM";

struct HfConfig {
  std::string architecture;       // architectures[0]
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;        // n_embd
  int64_t n_layer = 0;            // num_hidden_layers
  int64_t n_head = 0;             // num_attention_heads
  std::optional<int64_t> n_head_kv;  // num_key_value_heads (absent: = n_head)
  std::optional<int64_t> head_dim;   // absent: hidden_size / n_head
  int64_t n_ff = 0;               // intermediate_size
  double rms_eps = 0;             // rms_norm_eps
  std::optional<int64_t> max_position_embeddings;
  bool tie_word_embeddings = false;
  // RoPE: rope_parameters or rope_scaling, with rope_theta mirrored in.
  std::optional<double> rope_theta;
  std::string rope_type;          // "" (none), "dynamic" or "xdrope" (NTK-alpha)
  std::optional<double> rope_alpha;
  // Token ids named in the config (bos_token_id, ...), in llama.cpp's order
  // bos, eos, unk, sep, pad, cls, mask; absent or non-integer ones left out.
  std::vector<std::pair<std::string, int64_t>> special_ids;
  std::optional<int64_t> eod_token_id;
  std::optional<int64_t> pad_token_id;  // raw value (may be negative)

  int64_t effective_head_dim() const { return head_dim.value_or(hidden_size / n_head); }
  int64_t effective_n_head_kv() const { return n_head_kv.value_or(n_head); }
};

// Parses config.json text. Errors: bad JSON, another architecture, a missing
// or non-positive size, a rope type the converter does not honour.
Result<HfConfig> parse_hf_config(std::string_view json_text);

// generation_config.json: llama.cpp takes eos_token_id[0] as EOT when
// eos_token_id is a list of at least two ids.
struct HfGenerationConfig {
  std::optional<int64_t> eot_token_id;
};
Result<HfGenerationConfig> parse_hf_generation_config(std::string_view json_text);

}  // namespace hy2bit::convert
