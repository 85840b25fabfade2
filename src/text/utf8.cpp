// UTF-8 validation, replacement and the streaming buffer (see utf8.h).
// The decoder follows Unicode Table 3-7 (well-formed byte sequences), so the
// same rules decide validity, U+FFFD replacement and what the stream holds.
#include "text/utf8.h"

#include <cstdio>

namespace hy2bit::text {
namespace {

// Valid range of the second byte for each lead byte (Table 3-7); the third
// and fourth bytes are always 0x80..0xBF. Returns false for bytes that cannot
// start a sequence (0x80..0xC1, 0xF5..0xFF).
bool lead_info(uint8_t lead, size_t* len, uint8_t* lo, uint8_t* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (lead < 0x80) { *len = 1; return true; }
  if (lead >= 0xC2 && lead <= 0xDF) { *len = 2; return true; }
  if (lead >= 0xE0 && lead <= 0xEF) {
    *len = 3;
    if (lead == 0xE0) *lo = 0xA0;  // no overlongs
    if (lead == 0xED) *hi = 0x9F;  // no surrogates
    return true;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    *len = 4;
    if (lead == 0xF0) *lo = 0x90;  // no overlongs
    if (lead == 0xF4) *hi = 0x8F;  // nothing above U+10FFFF
    return true;
  }
  return false;
}

// Length of the maximal subpart at text[pos]: how many bytes from pos form a
// prefix of some valid sequence (at least 1). `complete` tells whether that
// prefix is a whole character; `truncated` whether it stopped only because the
// text ended (so more bytes could still complete it).
struct Subpart {
  size_t len = 1;
  bool complete = false;
  bool truncated = false;
};

Subpart maximal_subpart(std::string_view text, size_t pos) {
  Subpart s;
  size_t need = 0;
  uint8_t lo = 0, hi = 0;
  if (!lead_info(static_cast<uint8_t>(text[pos]), &need, &lo, &hi)) return s;  // lone bad byte
  size_t got = 1;
  while (got < need) {
    if (pos + got >= text.size()) {
      s.len = got;
      s.truncated = true;
      return s;
    }
    const uint8_t b = static_cast<uint8_t>(text[pos + got]);
    const uint8_t want_lo = got == 1 ? lo : 0x80;
    const uint8_t want_hi = got == 1 ? hi : 0xBF;
    if (b < want_lo || b > want_hi) {
      s.len = got;
      return s;
    }
    ++got;
  }
  s.len = need;
  s.complete = true;
  return s;
}

}  // namespace

Utf8Char decode_utf8(std::string_view text, size_t pos) {
  const Subpart s = maximal_subpart(text, pos);
  if (!s.complete) return {};
  const auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(text[pos + i])); };
  switch (s.len) {
    case 1: return {b(0), 1};
    case 2: return {((b(0) & 0x1F) << 6) | (b(1) & 0x3F), 2};
    case 3: return {((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F), 3};
    default:
      return {((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F), 4};
  }
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::optional<size_t> find_invalid_utf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    // ASCII fast path: most prompt bytes.
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Subpart s = maximal_subpart(text, pos);
    if (!s.complete) return pos;
    pos += s.len;
  }
  return std::nullopt;
}

Status validate_utf8(std::string_view text, std::string_view what) {
  const std::optional<size_t> bad = find_invalid_utf8(text);
  if (!bad) return Ok{};
  char hex[8];
  std::snprintf(hex, sizeof(hex), "0x%02x", static_cast<unsigned>(static_cast<uint8_t>(text[*bad])));
  const Subpart s = maximal_subpart(text, *bad);
  return make_error(what, " is not valid UTF-8 at byte ", *bad, " (found ", std::string_view(hex),
                    s.truncated ? ", a character cut off by the end of the text)"
                                : ", expected a well-formed UTF-8 sequence)");
}

std::string replace_invalid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const Subpart s = maximal_subpart(text, pos);
    if (s.complete) {
      out.append(text.substr(pos, s.len));
    } else {
      append_utf8(out, kReplacementChar);
    }
    pos += s.len;
  }
  return out;
}

Result<std::string> sanitize_utf8(std::string_view text, InvalidUtf8 policy, std::string_view what) {
  if (policy == InvalidUtf8::kReplace) return replace_invalid_utf8(text);
  HY2BIT_TRY(validate_utf8(text, what));
  return std::string(text);
}

std::string Utf8StreamBuffer::push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t pos = 0;
  while (pos < pending_.size()) {
    const Subpart s = maximal_subpart(pending_, pos);
    if (s.complete) {
      out.append(pending_, pos, s.len);
    } else if (s.truncated) {
      break;  // may still complete: hold it
    } else {
      append_utf8(out, kReplacementChar);  // can never complete
    }
    pos += s.len;
  }
  pending_.erase(0, pos);
  return out;
}

std::string Utf8StreamBuffer::flush() {
  std::string out;
  if (!pending_.empty()) {
    // The held bytes are always one truncated maximal subpart.
    append_utf8(out, kReplacementChar);
    pending_.clear();
  }
  return out;
}

}  // namespace hy2bit::text
