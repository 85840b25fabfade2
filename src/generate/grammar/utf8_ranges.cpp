// Splitting code point ranges into UTF-8 byte-range sequences: first at the
// encoded-length boundaries, then until every continuation byte spans its
// whole 6-bit block or the range fits one lead byte.
#include "generate/grammar/utf8_ranges.h"

#include <algorithm>

namespace hy2bit::grammar {
namespace {

size_t encoded_length(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

void split(uint32_t lo, uint32_t hi, std::vector<Utf8Sequence>& out) {
  // Keep surrogates out.
  if (lo <= 0xDFFF && hi >= 0xD800) {
    if (lo < 0xD800) split(lo, 0xD7FF, out);
    if (hi > 0xDFFF) split(0xE000, hi, out);
    return;
  }
  // Same encoded length at both ends.
  for (uint32_t boundary : {0x7Fu, 0x7FFu, 0xFFFFu}) {
    if (lo <= boundary && hi > boundary) {
      split(lo, boundary, out);
      split(boundary + 1, hi, out);
      return;
    }
  }
  if (hi < 0x80) {
    out.push_back({{static_cast<uint8_t>(lo), static_cast<uint8_t>(hi)}});
    return;
  }
  // Align so that each trailing 6-bit group is either fixed or spans 0..63.
  for (uint32_t i = 1; i < 4; ++i) {
    const uint32_t mask = (1u << (6 * i)) - 1;
    if ((lo & ~mask) != (hi & ~mask)) {
      if ((lo & mask) != 0) {
        split(lo, lo | mask, out);
        split((lo | mask) + 1, hi, out);
        return;
      }
      if ((hi & mask) != mask) {
        split(lo, (hi & ~mask) - 1, out);
        split(hi & ~mask, hi, out);
        return;
      }
    }
  }
  const std::vector<uint8_t> a = encode_utf8(lo), b = encode_utf8(hi);
  Utf8Sequence seq;
  for (size_t i = 0; i < a.size(); ++i) seq.push_back({a[i], b[i]});
  out.push_back(std::move(seq));
}

}  // namespace

std::vector<uint8_t> encode_utf8(uint32_t cp) {
  switch (encoded_length(cp)) {
    case 1: return {static_cast<uint8_t>(cp)};
    case 2: return {static_cast<uint8_t>(0xC0 | (cp >> 6)), static_cast<uint8_t>(0x80 | (cp & 0x3F))};
    case 3:
      return {static_cast<uint8_t>(0xE0 | (cp >> 12)), static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
              static_cast<uint8_t>(0x80 | (cp & 0x3F))};
    default:
      return {static_cast<uint8_t>(0xF0 | (cp >> 18)), static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F)),
              static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F)), static_cast<uint8_t>(0x80 | (cp & 0x3F))};
  }
}

Result<uint32_t> decode_utf8(std::string_view text, size_t& pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t b0 = byte(pos);
  size_t n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
  if (n == 0 || pos + n > text.size()) return make_error("invalid UTF-8 at byte ", pos);
  uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (size_t i = 1; i < n; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return make_error("invalid UTF-8 at byte ", pos);
    cp = (cp << 6) | (byte(pos + i) & 0x3F);
  }
  if (encoded_length(cp) != n || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF))
    return make_error("invalid UTF-8 at byte ", pos);
  pos += n;
  return cp;
}

std::vector<Utf8Sequence> utf8_sequences(const std::vector<CodePointRange>& ranges) {
  std::vector<Utf8Sequence> out;
  for (const CodePointRange& r : ranges)
    if (r.lo <= r.hi && r.lo <= kMaxCodePoint) split(r.lo, std::min(r.hi, kMaxCodePoint), out);
  return out;
}

std::vector<CodePointRange> complement(std::vector<CodePointRange> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const CodePointRange& a, const CodePointRange& b) { return a.lo < b.lo; });
  std::vector<CodePointRange> out;
  uint32_t next = 0;  // first value not yet covered
  bool done = false;
  for (const CodePointRange& r : ranges) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    if (r.hi >= kMaxCodePoint) {
      done = true;
      break;
    }
    next = std::max(next, r.hi + 1);
  }
  if (!done && next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

}  // namespace hy2bit::grammar
