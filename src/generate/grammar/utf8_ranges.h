// Unicode code point ranges as UTF-8 byte-range sequences (the construction
// RE2 and Rust's regex-syntax use), so grammar character classes become
// byte-level symbols. Surrogates (U+D800..DFFF) are never produced.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit::grammar {

inline constexpr uint32_t kMaxCodePoint = 0x10FFFF;

struct CodePointRange {
  uint32_t lo, hi;  // inclusive
};
struct ByteRange {
  uint8_t lo, hi;  // inclusive
};
// Bytes b0 b1 .. with b_i in range i; 1 to 4 ranges.
using Utf8Sequence = std::vector<ByteRange>;

// Sequences that together match exactly the UTF-8 encodings of the scalar
// values in `ranges` (overlaps allowed; surrogates dropped).
std::vector<Utf8Sequence> utf8_sequences(const std::vector<CodePointRange>& ranges);
// Scalar values in [0, kMaxCodePoint] not in `ranges`, sorted and merged.
std::vector<CodePointRange> complement(std::vector<CodePointRange> ranges);

std::vector<uint8_t> encode_utf8(uint32_t cp);
// Decodes one code point at text[pos], advancing pos; an Error if ill-formed.
Result<uint32_t> decode_utf8(std::string_view text, size_t& pos);

}  // namespace hy2bit::grammar
