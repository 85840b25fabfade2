// The hunyuan-dense pre-tokenizer (identical to llama.cpp's deepseek-v3): three
// regexes applied in sequence, each splitting the pieces left by the one before;
// matches and the gaps between them are both kept, so the pieces always
// concatenate back to the input. Patterns are compiled once with PCRE2 (JIT when
// available); BPE runs on each piece separately (tokenizer.cpp).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit::text {

class PreTokenizer {
 public:
  // Compiles the three patterns. Fails only if PCRE2 itself rejects them
  // (e.g. a PCRE2 built without Unicode support).
  static Result<PreTokenizer> create();

  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;
  ~PreTokenizer();

  // Splits `text` into pieces (views into `text`, in order, none empty,
  // together covering all of it). Ill-formed UTF-8 is an Error naming the byte.
  // Thread-safe: match state is per call.
  Result<std::vector<std::string_view>> split(std::string_view text) const;

 private:
  struct Patterns;
  explicit PreTokenizer(std::unique_ptr<Patterns> patterns);
  std::unique_ptr<Patterns> patterns_;
};

}  // namespace hy2bit::text
