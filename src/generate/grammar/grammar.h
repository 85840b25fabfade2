// A context-free grammar over bytes, parsed from llama.cpp's GBNF syntax, for
// constrained sampling (grammar/matcher.h walks it). Character classes and
// literals are compiled to UTF-8 byte sequences at parse time, so the matcher
// only ever compares single bytes and never needs to decode partial characters.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit::grammar {

// A set of byte values (256 bits).
struct ByteSet {
  std::array<uint64_t, 4> bits{};
  bool has(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
  void add_range(uint8_t lo, uint8_t hi) {
    for (unsigned b = lo; b <= hi; ++b) bits[b >> 6] |= uint64_t{1} << (b & 63);
  }
  bool operator==(const ByteSet&) const = default;
};

// One symbol of an alternative. The alternatives of all rules lie back to
// back in Grammar::elements, each closed by a kEnd element.
struct Element {
  enum Kind : uint8_t { kBytes, kRule, kEnd };
  Kind kind = kEnd;
  uint32_t index = 0;  // kBytes: Grammar::byte_sets index; kRule: rule id
};

struct Grammar {
  std::vector<Element> elements;                  // all alternatives, each ending with kEnd
  std::vector<std::vector<uint32_t>> rule_alts;   // [rule] -> start positions in `elements`
  std::vector<std::string> rule_names;            // [rule] (generated rules: "name-N")
  std::vector<ByteSet> byte_sets;                 // terminals
  std::vector<uint32_t> min_bytes;                // [position] fewest bytes that finish the
                                                  // alternative from here (kEnd: 0)
  uint32_t root = 0;                              // the rule named "root"
};

// Caps that keep a hostile grammar from exhausting memory.
inline constexpr size_t kMaxGrammarElements = 1u << 20;  // symbols after desugaring
inline constexpr uint32_t kMaxRepetition = 4096;         // m and n of x{m,n}
inline constexpr uint32_t kMinBytesCap = 1u << 30;       // Grammar::min_bytes saturates here

// Parses GBNF (llama.cpp grammars/README.md): `name ::= alternatives`, rules
// separated by newlines, "literals", [character classes] with ranges and ^,
// `.` (any character), ( groups ), `|`, the repetitions * + ? {m} {m,} {m,n},
// `#` comments, escapes \n \r \t \\ \" \[ \] \xHH \uHHHH \UHHHHHHHH. The
// start rule is `root`. Not supported (an Error says so): token references
// (<...>, <[id]>, !), which name token ids rather than text.
// Errors name the line and column; undefined or left-recursive rules and rules
// that can never end are errors too (the matcher relies on all three).
Result<Grammar> parse_gbnf(std::string_view text);

}  // namespace hy2bit::grammar
