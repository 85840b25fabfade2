// hunyuan-dense pre-tokenizer on PCRE2. The regexes are the ones of
// docs/hy-model.md (llama.cpp's LLAMA_VOCAB_PRE_TYPE_HUNYUAN_DENSE, shared with
// deepseek-v3), rewritten so PCRE2 gives exactly what llama.cpp's
// unicode_regex_split gives; the comments on kPatterns explain each deviation.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/pre_tokenizer.h"

#include <pcre2.h>

#include <array>
#include <string>
#include <utility>

#include "text/utf8.h"

namespace hy2bit::text {
namespace {

// Whitespace as llama.cpp sees it. ASCII: std::regex's \s in the "C" locale
// (\t \n \v \f \r space; not 0x1C..0x1F). Non-ASCII: llama.cpp maps every
// code point of its whitespace table (Unicode White_Space) to \v before
// matching. PCRE2's own \s would also take U+180E, so the set is spelled out.
#define HY2BIT_WS_CHARS \
  "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

// The three patterns, applied in order.
//
// llama.cpp matches regexes that use \p{..} on a "collapsed" text (each
// non-ASCII code point becomes one byte standing for its Unicode category, and
// each \p{X} becomes [<that byte><ASCII members of X>]); with Unicode
// categories that equals PCRE2's \p{X}, except for whitespace (above).
// llama.cpp builds before PR #26972 (2026-08) left '~' out of the ASCII
// members of \p{S}, so " ~" and "~}" split differently there; hy2bit follows
// the fixed behaviour, which is also the Hugging Face tokenizer's, i.e. the
// one the model was trained with.
constexpr std::array<const char*, 3> kPatterns = {
    // 1. Runs of up to three numbers (any Unicode N).
    "\\p{N}{1,3}",
    // 2. CJK ideographs U+4E00..U+9FA5, hiragana, katakana.
    "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
    // 3. ASCII punctuation + ASCII word | optional non-letter + letters/marks |
    //    optional space + punctuation/symbols + newlines | whitespace ending in
    //    newlines | whitespace not followed by non-whitespace | whitespace.
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
    "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
    "| ?[\\p{P}\\p{S}]+[\\r\\n]*"
    "|[" HY2BIT_WS_CHARS "]*[\\r\\n]+"
    "|[" HY2BIT_WS_CHARS "]+(?![^" HY2BIT_WS_CHARS "])"
    "|[" HY2BIT_WS_CHARS "]+",
};
#undef HY2BIT_WS_CHARS

struct CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
using CodePtr = std::unique_ptr<pcre2_code, CodeDeleter>;
using MatchDataPtr = std::unique_ptr<pcre2_match_data, MatchDataDeleter>;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0) return "error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buffer));
}

// A piece of the text: byte offset and length.
struct Span {
  size_t offset;
  size_t length;
};

}  // namespace

struct PreTokenizer::Patterns {
  std::array<CodePtr, kPatterns.size()> code;
};

PreTokenizer::PreTokenizer(std::unique_ptr<Patterns> patterns) : patterns_(std::move(patterns)) {}
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;
PreTokenizer::~PreTokenizer() = default;

Result<PreTokenizer> PreTokenizer::create() {
  auto patterns = std::make_unique<Patterns>();
  for (size_t i = 0; i < kPatterns.size(); ++i) {
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    CodePtr code(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPatterns[i]), PCRE2_ZERO_TERMINATED,
                               PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr));
    if (!code) {
      return make_error("pre-tokenizer regex ", i + 1, " does not compile at offset ", error_offset, ": ",
                        pcre2_message(error_code));
    }
    // JIT is a speed-up only: without it pcre2_match interprets the pattern.
    (void)pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE);
    patterns->code[i] = std::move(code);
  }
  return PreTokenizer(std::move(patterns));
}

Result<std::vector<std::string_view>> PreTokenizer::split(std::string_view text) const {
  // Validated here so PCRE2 can skip its own check on every call.
  HY2BIT_TRY(validate_utf8(text, "text"));

  MatchDataPtr match(pcre2_match_data_create(1, nullptr));
  if (!match) return make_error("pre-tokenizer: out of memory for PCRE2 match data");

  std::vector<Span> pieces;
  std::vector<Span> next;
  if (!text.empty()) pieces.push_back({0, text.size()});
  for (size_t p = 0; p < kPatterns.size(); ++p) {
    const pcre2_code* code = patterns_->code[p].get();
    next.clear();
    next.reserve(pieces.size() * 2);
    for (const Span& piece : pieces) {
      // Each piece is matched on its own, as llama.cpp does: lookahead sees
      // the end of the piece as the end of the text.
      const auto* data = reinterpret_cast<PCRE2_SPTR>(text.data() + piece.offset);
      size_t start = 0;
      while (start < piece.length) {
        const int rc = pcre2_match(code, data, piece.length, start, PCRE2_NO_UTF_CHECK, match.get(), nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
          return make_error("pre-tokenizer regex ", p + 1, " failed at byte ", piece.offset + start, ": ",
                            pcre2_message(rc));
        }
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
        const size_t match_begin = ovector[0];
        const size_t match_end = ovector[1];
        if (match_end <= match_begin) break;  // no pattern can match empty; never loop on one
        if (match_begin > start) next.push_back({piece.offset + start, match_begin - start});  // the gap
        next.push_back({piece.offset + match_begin, match_end - match_begin});
        start = match_end;
      }
      if (start < piece.length) next.push_back({piece.offset + start, piece.length - start});
    }
    pieces.swap(next);
  }

  std::vector<std::string_view> out;
  out.reserve(pieces.size());
  for (const Span& piece : pieces) out.push_back(text.substr(piece.offset, piece.length));
  return out;
}

}  // namespace hy2bit::text
