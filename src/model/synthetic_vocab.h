// A synthetic but valid byte-level GPT-2 BPE vocabulary for random test
// models (make-test-model): 256 byte tokens, merged tokens that BPE really
// produces from their own text, then the 16 Hunyuan control tokens. It only
// depends on n_vocab (no seed); no file I/O here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit::model {

// GGUF tokenizer.ggml.token_type values used here (llama.cpp's numbering).
inline constexpr int32_t kTokenTypeNormal = 1;
inline constexpr int32_t kTokenTypeControl = 3;

// The control tokens sit at the end, in the order of testdata's hy-tiny model
// (BOS first, padding third, EOS sixth): 16 of them.
inline constexpr int64_t kSyntheticControlCount = 16;
// The smallest vocab: 256 byte tokens, at least one merge, the control tokens.
inline constexpr int64_t kSyntheticVocabMin = 256 + 1 + kSyntheticControlCount;
// The largest vocab built (real ones stay below 300k; this caps memory and time).
inline constexpr int64_t kSyntheticVocabMax = int64_t{1} << 20;

struct SyntheticVocab {
  // n_vocab token strings as GGUF stores them: normal tokens in GPT-2's
  // byte-to-unicode form ("Ġ" for a space byte), control tokens as plain UTF-8.
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;  // n_vocab: kTokenTypeNormal or kTokenTypeControl
  // "left right" in rank order; merge i creates token 256 + i, whose string is
  // left + right. Tokens 0..255 are the bytes 0..255.
  std::vector<std::string> merges;

  int32_t bos_id = -1;        // <｜hy_begin▁of▁sentence｜>
  int32_t eos_id = -1;        // <｜hy_place▁holder▁no▁2｜>: ends an assistant turn
  int32_t pad_id = -1;        // <｜hy_▁pad▁｜>
  int32_t user_id = -1;       // <｜hy_User｜>
  int32_t assistant_id = -1;  // <｜hy_Assistant｜>
  int32_t end_system_id = -1; // <｜hy_place▁holder▁no▁3｜>: ends a system turn
};

// Builds the vocab for n_vocab tokens (kSyntheticVocabMin..kSyntheticVocabMax).
// Deterministic; the normal tokens of a smaller vocab are a prefix of those of
// a bigger one. Every merged token t satisfies: byte-level BPE of t's text
// with these merges gives exactly [t]. Takes well under a second for 120818.
Result<SyntheticVocab> make_synthetic_vocab(int64_t n_vocab);

// GPT-2's byte-to-unicode mapping applied to raw bytes (space -> "Ġ",
// newline -> "Ċ", printable ASCII unchanged), as byte-level BPE vocabs store text.
std::string gpt2_bytes_to_unicode(std::string_view raw);

}  // namespace hy2bit::model
