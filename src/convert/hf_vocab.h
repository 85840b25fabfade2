// The tokenizer side of the converter: tokenizer.json, tokenizer_config.json
// and tiktoken ranks parsed from strings (fuzzable), and the GGUF vocabulary
// built from them the way llama.cpp's converter builds it (HunYuanModel
// set_vocab, TextModel.get_vocab_base, gguf-py SpecialVocab).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "convert/hf_config.h"
#include "hy2bit/result.h"

namespace hy2bit::convert {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum TokenType : int32_t { kTokenNormal = 1, kTokenControl = 3, kTokenUserDefined = 4, kTokenUnused = 5 };

struct AddedToken {
  int64_t id = 0;
  std::string content;
  bool special = false;
};

// tokenizer.json (HF tokenizers), the parts the converter uses.
struct TokenizerJson {
  std::vector<std::pair<std::string, int64_t>> vocab;  // model.vocab, token text -> id
  std::vector<std::string> merges;                     // "a b", pair form converted as llama.cpp does
  std::vector<AddedToken> added_tokens;
  // post_processor: RobertaProcessing, or TemplateProcessing's "single"
  // template's first and last special tokens when it has more than one item.
  bool roberta = false;
  std::optional<std::string> template_first, template_last;
};
Result<TokenizerJson> parse_tokenizer_json(std::string_view json_text);

// tokenizer_config.json.
struct TokenizerConfig {
  std::vector<std::pair<std::string, bool>> add_flags;            // "bos" -> add_bos_token, in type order
  std::vector<std::pair<std::string, std::string>> token_texts;   // "bos" -> bos_token text
  std::optional<std::string> chat_template;
  std::vector<AddedToken> added_tokens_decoder;                   // sorted by id
};
Result<TokenizerConfig> parse_tokenizer_config(std::string_view json_text);

// A tiktoken ranks file: one "base64-token rank" a line (rank = token id).
struct TiktokenRanks {
  std::vector<std::pair<std::string, int64_t>> ranks;  // raw token bytes -> rank, in file order
};
Result<TiktokenRanks> parse_tiktoken_ranks(std::string_view text);

// GPT-2's byte-level text of raw bytes (byte b -> one printable code point).
std::string byte_level_text(std::string_view bytes);
// llama.cpp's reconstruction of BPE merges from ranks (QwenModel.bpe): for
// each token of two or more bytes, in file order, BPE its bytes using only
// ranks below its own; if that ends in exactly two parts, they are a merge.
std::vector<std::string> merges_from_ranks(const TiktokenRanks& ranks);

// The vocabulary as it goes into the GGUF.
struct GgufVocab {
  std::vector<std::string> tokens;   // tokenizer.ggml.tokens, vocab_size long
  std::vector<int32_t> types;        // tokenizer.ggml.token_type
  std::vector<std::string> merges;   // tokenizer.ggml.merges
  std::vector<std::pair<std::string, int64_t>> special_ids;  // "bos" -> id, in writing order
  std::vector<std::pair<std::string, bool>> add_flags;       // "bos" -> add_bos_token, in writing order
  std::optional<std::string> chat_template;
  // Set after the above, as HunYuanModel.set_vocab does (the 7B BOS fix,
  // eod_token_id as EOS, generation_config's EOT): a key already written
  // keeps its place, a new one goes last.
  std::vector<std::pair<std::string, int64_t>> late_ids;
};

// Inputs of both tokenizer forms besides the tokenizer itself.
struct VocabSources {
  const HfConfig* config = nullptr;
  std::optional<TokenizerConfig> tokenizer_config;
  std::optional<std::string> chat_template_file;   // chat_template.jinja, or chat_template.json's chat_template
  std::optional<HfGenerationConfig> generation_config;
};

// From tokenizer.json. Errors: ids at or past vocab_size, two tokens with
// one id, a special token id past the vocabulary.
Result<GgufVocab> vocab_from_tokenizer_json(const TokenizerJson& tok, const VocabSources& src);
// From tiktoken ranks plus tokenizer_config.json's added_tokens_decoder.
Result<GgufVocab> vocab_from_tiktoken(const TiktokenRanks& ranks, const VocabSources& src);

}  // namespace hy2bit::convert
