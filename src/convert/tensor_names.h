// Hugging Face tensor names of HunYuanDenseV1ForCausalLM and their GGUF
// names and expected shapes (gguf-py's tensor_mapping for hunyuan-dense),
// checked against config.json. Internal to src/convert.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "convert/hf_config.h"

namespace hy2bit::convert {

struct MappedName {
  std::string gguf_name;                // e.g. "blk.3.attn_q.weight"
  std::vector<uint64_t> expected_shape;  // HF order (outermost first), from config.json
  bool linear = false;                  // a 2-bit candidate (not token_embd/output, not a norm)
};

// The GGUF name of an HF tensor, or nullopt for a name this architecture
// does not have. A layer index at or past num_hidden_layers is not a name.
std::optional<MappedName> map_tensor_name(std::string_view hf_name, const HfConfig& cfg);

// Source tensors llama.cpp's converter drops without a word.
bool is_ignored_tensor(std::string_view hf_name);

// Every GGUF name a complete checkpoint must provide (output.weight only
// when the embeddings are not tied).
std::vector<std::string> required_gguf_names(const HfConfig& cfg);

}  // namespace hy2bit::convert
