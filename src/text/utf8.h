// UTF-8 helpers for the text path: strict validation (prompts are checked
// once, before any tokenizing), U+FFFD replacement of ill-formed bytes, and
// Utf8StreamBuffer, which turns a stream of token byte pieces into complete
// characters so a streaming UI never prints half a character.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hy2bit/result.h"

namespace hy2bit::text {

inline constexpr uint32_t kReplacementChar = 0xFFFD;  // U+FFFD REPLACEMENT CHARACTER

// One decoded character: `len` bytes starting at the given position encode
// code point `cp`. len == 0 means the bytes there are not a valid sequence.
struct Utf8Char {
  uint32_t cp = 0;
  size_t len = 0;
};

// Strictly decodes the character at text[pos] (pos < text.size()): rejects
// overlong forms, surrogates (U+D800..DFFF), values above U+10FFFF and
// truncated sequences.
Utf8Char decode_utf8(std::string_view text, size_t pos);

// Appends the UTF-8 encoding of `cp` (must be <= U+10FFFF, not a surrogate).
void append_utf8(std::string& out, uint32_t cp);

// Byte offset of the first ill-formed byte, or nullopt if `text` is valid UTF-8.
std::optional<size_t> find_invalid_utf8(std::string_view text);
inline bool is_valid_utf8(std::string_view text) { return !find_invalid_utf8(text).has_value(); }

// Ok if `text` is valid UTF-8, else an Error such as
// "prompt is not valid UTF-8 at byte 7 (found 0xff)"; `what` names the text.
Status validate_utf8(std::string_view text, std::string_view what = "prompt");

// Copy of `text` where every maximal ill-formed subsequence (Unicode's
// "maximal subpart" rule, as browsers do) becomes one U+FFFD.
std::string replace_invalid_utf8(std::string_view text);

// What to do with ill-formed input.
enum class InvalidUtf8 {
  kReject,   // return an Error naming the byte offset
  kReplace,  // replace each ill-formed subsequence by U+FFFD
};

// Either rejects ill-formed text (kReject: the validate_utf8 message) or
// returns it repaired (kReplace). Valid text is returned unchanged.
Result<std::string> sanitize_utf8(std::string_view text, InvalidUtf8 policy = InvalidUtf8::kReject,
                                  std::string_view what = "prompt");

// Streaming detokenization: push the bytes of each token piece, get back only
// complete characters. An incomplete tail that could still become a valid
// character is held until more bytes arrive; bytes that can never become valid
// are emitted as U+FFFD at once (so nothing is held forever). flush() ends the
// stream: a held tail becomes U+FFFD.
class Utf8StreamBuffer {
 public:
  // Returns the complete characters now available (possibly empty).
  std::string push(std::string_view bytes);
  // Returns what is still held, as U+FFFD (empty if nothing is held), and resets.
  std::string flush();
  // Bytes currently held back (0..3).
  size_t pending_bytes() const { return pending_.size(); }

 private:
  std::string pending_;  // start of a character whose remaining bytes have not arrived
};

}  // namespace hy2bit::text
