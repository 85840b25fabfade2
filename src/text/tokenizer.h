// Byte-level BPE tokenizer (GGUF tokenizer.ggml.model "gpt2") for hunyuan-dense
// models, built from a parsed GGUF and matching llama.cpp's llama-vocab token
// for token: special-token partition, pre-tokenizer, merges by rank, byte
// fallback. Everything is validated and copied at load, so the Tokenizer does
// not reference the GGUF's bytes and encode() needs no further checks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "hy2bit/result.h"
#include "text/pre_tokenizer.h"

namespace hy2bit::text {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class TokenType : uint8_t {
  kUndefined = 0,
  kNormal = 1,       // byte-level BPE text, decoded through the byte<->unicode map
  kUnknown = 2,
  kControl = 3,      // e.g. BOS, <｜hy_User｜>: text rendered only on request
  kUserDefined = 4,  // matched whole in the input even without parse_special
  kUnused = 5,
  kByte = 6,
};

struct EncodeOptions {
  bool add_bos = false;        // prepend the BOS id (use Tokenizer::add_bos() for the model's choice)
  bool parse_special = true;   // control-token text in the input becomes that one token
};

class Tokenizer {
 public:
  // Reads tokenizer.ggml.{model,pre,tokens,token_type,merges,bos_token_id,
  // eos_token_id,eot_token_id,eom_token_id,padding_token_id,add_bos_token}.
  // Errors name the key (and index) and say what was found and expected.
  static Result<Tokenizer> from_gguf(const gguf::File& file);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Text -> token ids, as llama_tokenize(text, add_special = options.add_bos,
  // parse_special) does. Ill-formed UTF-8 is an Error naming the byte offset.
  // User-defined tokens are always matched whole; control tokens only when
  // parse_special is set. Thread-safe.
  Result<std::vector<int32_t>> encode(std::string_view text, const EncodeOptions& options = {}) const;

  // The bytes a token stands for (llama.cpp's token_to_piece): normal tokens
  // are mapped back through the byte-level alphabet, user-defined tokens are
  // their text, control/unknown tokens are their text only if render_special
  // (else empty), byte tokens "<0xHH>" are that byte, other types and
  // out-of-range ids are empty. The bytes of one token may end inside a UTF-8
  // character: stream them through Utf8StreamBuffer.
  std::string token_bytes(int32_t id, bool render_special = false) const;
  std::string_view token_piece(int32_t id, bool render_special = false) const;  // same, no copy
  // Concatenated token_bytes of `ids`.
  std::string decode(std::span<const int32_t> ids, bool render_special = false) const;

  int32_t n_vocab() const { return static_cast<int32_t>(types_.size()); }
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  std::optional<int32_t> eot() const { return eot_; }
  std::optional<int32_t> eom() const { return eom_; }
  std::optional<int32_t> pad() const { return pad_; }
  bool add_bos() const { return add_bos_; }  // tokenizer.ggml.add_bos_token (false if absent)

  // End of generation: EOS, EOT or EOM.
  bool is_eog(int32_t id) const;
  bool is_control(int32_t id) const { return type(id) == TokenType::kControl; }
  TokenType type(int32_t id) const;            // kUndefined for out-of-range ids
  std::string_view text(int32_t id) const;     // raw vocabulary text ("" if out of range)
  // Id of the token whose vocabulary text is exactly `text`.
  std::optional<int32_t> find_token(std::string_view text) const;
  size_t n_merges() const { return n_merges_; }

 private:
  struct Vocab;
  Tokenizer(std::unique_ptr<Vocab> vocab, PreTokenizer pre);

  // One raw-text fragment -> ids (pre-tokenize, then BPE each piece).
  Status encode_fragment(std::string_view fragment, std::vector<int32_t>& out) const;

  std::unique_ptr<Vocab> vocab_;  // strings, maps and merge table (tokenizer.cpp)
  PreTokenizer pre_;
  std::vector<TokenType> types_;  // [n_vocab]
  int32_t bos_ = -1;
  int32_t eos_ = -1;
  std::optional<int32_t> eot_;
  std::optional<int32_t> eom_;
  std::optional<int32_t> pad_;
  bool add_bos_ = false;
  size_t n_merges_ = 0;
};

}  // namespace hy2bit::text
