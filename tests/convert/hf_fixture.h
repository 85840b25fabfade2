// Test fixtures for hy2bit convert: small Hugging Face folders written at
// test time into the build tree (nothing committed), built from llama.cpp's
// reference GGUFs: hy-vocab.gguf's real vocabulary and merges (as
// tokenizer.json, or as hy.tiktoken ranks + tokenizer_config.json), and
// hy-tiny-f16.gguf's QDQ weights (on the 2-bit grid) as safetensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hy2bit::convert::test {

using Json = nlohmann::json;

// One tensor of a safetensors file: raw little-endian bytes of its dtype.
struct FixtureTensor {
  std::string name;
  std::string dtype;             // "F32", "F16", "BF16"
  std::vector<uint64_t> shape;   // HF order
  std::vector<uint8_t> bytes;
};

// Writes a safetensors file: header in the given order, data back to back.
void write_safetensors(const std::string& path, const std::vector<FixtureTensor>& tensors,
                       const Json& metadata = Json::object());
// Raw file bytes of a safetensors file with this exact header text and data.
std::vector<uint8_t> safetensors_bytes(const std::string& header_json, const std::vector<uint8_t>& data);
void write_text(const std::string& path, const std::string& text);

enum class TokenizerForm { kTokenizerJson, kTiktoken };

// A vocabulary as llama.cpp stored it in a GGUF.
struct GgufVocabulary {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges;
  std::string chat_template;
};
GgufVocabulary read_gguf_vocabulary(const std::string& gguf_path);

// The tokenizer files of `vocab` in either form, into dir. Control tokens
// (type 3) become special added tokens; user-defined ones (type 4)
// non-special added tokens (tokenizer.json form only: tiktoken has none).
void write_tokenizer(const std::string& dir, const GgufVocabulary& vocab, TokenizerForm form,
                     const Json& tokenizer_config_extra);

// The hy-vocab fixture: vocab 102408, a 1-layer model of hidden 64 with
// random weights (embedding BF16, linear F16, norms F32), tied lm_head
// present and skipped, a rotary cache ignored; two shards plus an index.
// Returns the folder.
std::string make_vocab_fixture(const std::string& dir, TokenizerForm form);

// The QDQ fixture: hy-tiny-f16.gguf's tensors and vocabulary as an HF folder.
std::string make_qdq_fixture(const std::string& dir);

// Removes `path` (a file or folder) when the test program ends: the
// fixtures are tens of MB and the scratch folder is not cleaned otherwise.
void remove_at_exit(const std::string& path);

// Config of the vocab fixture (a JSON object), for tests that edit it.
Json vocab_fixture_config();

}  // namespace hy2bit::convert::test
