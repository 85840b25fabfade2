// GBNF parser: text -> rules of symbol sequences (repetitions desugared into
// helper rules, as llama.cpp's grammar-parser does), then flattened into a
// Grammar with the checks the matcher relies on: every rule defined, no left
// recursion (the matcher's expansion would loop), every rule able to end.
#include "generate/grammar/grammar.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "generate/grammar/utf8_ranges.h"

namespace hy2bit::grammar {
namespace {

// A symbol while parsing: a terminal byte set or a rule id.
struct Symbol {
  bool is_rule = false;
  uint32_t index = 0;  // byte set or rule
};
using Sequence = std::vector<Symbol>;
using Alternatives = std::vector<Sequence>;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Grammar> parse() {
    skip_space(/*newlines=*/true);
    while (pos_ < text_.size()) {
      HY2BIT_TRY(parse_rule());
      skip_space(true);
    }
    return finish();
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  std::vector<std::string> names_;
  std::vector<Alternatives> rules_;
  std::vector<bool> defined_;
  std::vector<size_t> first_use_;  // offset of the first reference (for "undefined" errors)
  std::map<std::string, uint32_t, std::less<>> ids_;
  std::vector<ByteSet> sets_;
  size_t n_symbols_ = 0;
  int group_depth_ = 0;
  static constexpr int kMaxGroupNesting = 256;  // the parser recurses per group

  // ---- errors and positions ----
  Error error_at(size_t at, std::string_view what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Error{"grammar: line " + std::to_string(line) + " column " + std::to_string(col) + ": " +
                 std::string(what)};
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  void skip_space(bool newlines) {
    while (!at_end()) {
      const char c = peek();
      if (c == '#') {
        while (!at_end() && peek() != '\n') ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '\n' && newlines) {
        ++pos_;
      } else {
        break;
      }
    }
  }

  static bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  }

  // ---- rules and symbols ----
  uint32_t rule_id(std::string_view name, size_t used_at) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(rules_.size());
    ids_.emplace(std::string(name), id);
    names_.emplace_back(name);
    rules_.emplace_back();
    defined_.push_back(false);
    first_use_.push_back(used_at);
    return id;
  }
  uint32_t new_helper_rule(uint32_t parent, Alternatives alts) {
    std::string name = names_[parent] + "-" + std::to_string(rules_.size());
    const uint32_t id = rule_id(name, pos_);
    rules_[id] = std::move(alts);
    defined_[id] = true;
    return id;
  }
  uint32_t byte_set(const ByteSet& set) {
    for (size_t i = 0; i < sets_.size(); ++i)
      if (sets_[i] == set) return static_cast<uint32_t>(i);
    sets_.push_back(set);
    return static_cast<uint32_t>(sets_.size() - 1);
  }
  Status count(size_t n) {
    n_symbols_ += n;
    if (n_symbols_ > kMaxGrammarElements)
      return error_at(pos_, "the grammar is too large (over " + std::to_string(kMaxGrammarElements) +
                                " symbols after expanding repetitions)");
    return Ok{};
  }

  Status parse_rule() {
    const size_t start = pos_;
    while (!at_end() && is_name_char(peek())) ++pos_;
    if (pos_ == start) return error_at(pos_, "expected a rule name");
    const std::string_view name = text_.substr(start, pos_ - start);
    skip_space(false);
    if (text_.substr(pos_, 3) != "::=") return error_at(pos_, "expected '::=' after rule name '" + std::string(name) + "'");
    pos_ += 3;
    const uint32_t id = rule_id(name, start);
    if (defined_[id]) return error_at(start, "rule '" + std::string(name) + "' is defined twice");
    defined_[id] = true;
    skip_space(false);
    Result<Alternatives> alts = parse_alternatives(id, /*nested=*/false);
    if (!alts) return alts.error();
    rules_[id] = std::move(*alts);
    if (!at_end() && peek() != '\n') return error_at(pos_, "expected the end of the line after rule '" + std::string(name) + "'");
    return Ok{};
  }

  Result<Alternatives> parse_alternatives(uint32_t rule, bool nested) {
    Alternatives alts;
    while (true) {
      Result<Sequence> seq = parse_sequence(rule, nested);
      if (!seq) return seq.error();
      alts.push_back(std::move(*seq));
      if (peek() != '|') break;
      ++pos_;
      skip_space(true);
    }
    return alts;
  }

  Result<Sequence> parse_sequence(uint32_t rule, bool nested) {
    Sequence seq;
    while (!at_end()) {
      const size_t item_start = seq.size();
      const char c = peek();
      if (c == '"') {
        HY2BIT_TRY(parse_literal(seq));
      } else if (c == '[') {
        HY2BIT_TRY(parse_class(rule, seq));
      } else if (c == '.') {
        ++pos_;
        append_ranges(rule, {{0, kMaxCodePoint}}, seq);
      } else if (c == '(') {
        if (++group_depth_ > kMaxGroupNesting)
          return error_at(pos_, "groups nested deeper than " + std::to_string(kMaxGroupNesting) + " levels");
        ++pos_;
        skip_space(true);
        Result<Alternatives> inner = parse_alternatives(rule, /*nested=*/true);
        --group_depth_;
        if (!inner) return inner.error();
        if (peek() != ')') return error_at(pos_, "expected ')'");
        ++pos_;
        seq.push_back({true, new_helper_rule(rule, std::move(*inner))});
      } else if (is_name_char(c)) {
        const size_t start = pos_;
        while (!at_end() && is_name_char(peek())) ++pos_;
        // A name followed by '::=' starts the next rule (rules may follow without a blank line).
        size_t look = pos_;
        while (look < text_.size() && (text_[look] == ' ' || text_[look] == '\t')) ++look;
        if (!nested && text_.substr(look, 3) == "::=") {
          pos_ = start;
          break;
        }
        seq.push_back({true, rule_id(text_.substr(start, pos_ - start), start)});
      } else if (c == '<' || c == '!') {
        return error_at(pos_, "token references (<...>, <[id]>, !) are not supported; write the text instead");
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (seq.empty()) return error_at(pos_, std::string("'") + c + "' has nothing to repeat");
        return error_at(pos_, "unexpected repetition");
      } else {
        break;  // '|', ')', newline, or something the caller rejects
      }
      HY2BIT_TRY(count(seq.size() - item_start));
      // Repetition operators apply to the item just parsed.
      while (!at_end() && (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{')) {
        HY2BIT_TRY(parse_repetition(rule, seq, item_start));
      }
      skip_space(nested);
    }
    return seq;
  }

  // x* x+ x? x{m} x{m,} x{m,n} on seq[item_start..], which becomes one symbol.
  Status parse_repetition(uint32_t rule, Sequence& seq, size_t item_start) {
    const size_t op_at = pos_;
    uint32_t min = 0, max = 0;
    bool unbounded = false;
    const char c = peek();
    ++pos_;
    if (c == '*') {
      unbounded = true;
    } else if (c == '+') {
      min = 1;
      unbounded = true;
    } else if (c == '?') {
      max = 1;
    } else {  // {m} {m,} {m,n}
      skip_space(false);
      Result<uint32_t> m = parse_count();
      if (!m) return m.error();
      min = max = *m;
      skip_space(false);
      if (peek() == ',') {
        ++pos_;
        skip_space(false);
        if (peek() == '}') {
          unbounded = true;
        } else {
          Result<uint32_t> n = parse_count();
          if (!n) return n.error();
          max = *n;
          if (max < min) return error_at(op_at, "repetition {m,n} has n < m");
        }
        skip_space(false);
      }
      if (peek() != '}') return error_at(pos_, "expected '}' closing the repetition");
      ++pos_;
    }
    const Sequence item(seq.begin() + static_cast<ptrdiff_t>(item_start), seq.end());
    seq.resize(item_start);
    HY2BIT_TRY(count(item.size() * (static_cast<size_t>(unbounded ? min + 1 : max) + 1)));
    for (uint32_t i = 0; i < min; ++i) seq.insert(seq.end(), item.begin(), item.end());
    if (unbounded) {
      // tail ::= item tail | (empty)
      const uint32_t tail = new_helper_rule(rule, {});
      Sequence loop = item;
      loop.push_back({true, tail});
      rules_[tail] = {loop, {}};
      seq.push_back({true, tail});
    } else if (max > min) {
      // (item (item (...)?)?)? nested, n - m deep
      uint32_t inner = 0;
      bool have_inner = false;
      for (uint32_t i = min; i < max; ++i) {
        Sequence body = item;
        if (have_inner) body.push_back({true, inner});
        inner = new_helper_rule(rule, {body, {}});
        have_inner = true;
      }
      seq.push_back({true, inner});
    }
    return Ok{};
  }

  Result<uint32_t> parse_count() {
    const size_t start = pos_;
    uint64_t v = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + static_cast<uint64_t>(peek() - '0');
      if (v > kMaxRepetition) return error_at(start, "repetition count over " + std::to_string(kMaxRepetition));
      ++pos_;
    }
    if (pos_ == start) return error_at(pos_, "expected a number in the repetition");
    return static_cast<uint32_t>(v);
  }

  // One character (code point) of a literal or class, escapes decoded.
  Result<uint32_t> parse_char() {
    if (at_end()) return error_at(pos_, "unexpected end of the grammar");
    const size_t start = pos_;
    if (peek() == '\\') {
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case 'n': return uint32_t{'\n'};
        case 'r': return uint32_t{'\r'};
        case 't': return uint32_t{'\t'};
        case '\\': case '"': case '[': case ']': case '-': case '^': case '\'': return static_cast<uint32_t>(e);
        case 'x': return parse_hex(2, start);
        case 'u': return parse_hex(4, start);
        case 'U': return parse_hex(8, start);
        default: return error_at(start, std::string("unknown escape '\\") + e + "'");
      }
    }
    Result<uint32_t> cp = decode_utf8(text_, pos_);
    if (!cp) return error_at(start, "invalid UTF-8 in the grammar");
    return *cp;
  }
  Result<uint32_t> parse_hex(int digits, size_t start) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const char h = peek();
      int d = -1;
      if (h >= '0' && h <= '9') d = h - '0';
      else if (h >= 'a' && h <= 'f') d = h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') d = h - 'A' + 10;
      if (d < 0) return error_at(pos_, "expected " + std::to_string(digits) + " hex digits in the escape");
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    if (v > kMaxCodePoint || (v >= 0xD800 && v <= 0xDFFF))
      return error_at(start, "the escape is not a Unicode scalar value");
    return v;
  }

  Status parse_literal(Sequence& seq) {
    ++pos_;  // "
    while (true) {
      if (at_end() || peek() == '\n') return error_at(pos_, "unterminated string literal");
      if (peek() == '"') break;
      Result<uint32_t> cp = parse_char();
      if (!cp) return cp.error();
      for (uint8_t b : encode_utf8(*cp)) {
        ByteSet set;
        set.add_range(b, b);
        seq.push_back({false, byte_set(set)});
      }
    }
    ++pos_;
    return Ok{};
  }

  Status parse_class(uint32_t rule, Sequence& seq) {
    const size_t start = pos_;
    ++pos_;  // [
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<CodePointRange> ranges;
    while (true) {
      if (at_end() || peek() == '\n') return error_at(start, "unterminated character class");
      if (peek() == ']') break;
      Result<uint32_t> lo = parse_char();
      if (!lo) return lo.error();
      uint32_t hi = *lo;
      if (peek() == '-' && peek(1) != ']' && peek(1) != '\0') {
        ++pos_;
        Result<uint32_t> h = parse_char();
        if (!h) return h.error();
        hi = *h;
        if (hi < *lo) return error_at(start, "character class range is reversed");
      }
      ranges.push_back({*lo, hi});
    }
    ++pos_;
    if (negated) ranges = complement(ranges);
    if (ranges.empty()) return error_at(start, "the character class matches nothing");
    append_ranges(rule, ranges, seq);
    return Ok{};
  }

  // Appends the UTF-8 byte sequences of `ranges` (one symbol if they are all
  // single bytes, else a helper rule with one alternative per sequence shape).
  void append_ranges(uint32_t rule, const std::vector<CodePointRange>& ranges, Sequence& seq) {
    const std::vector<Utf8Sequence> seqs = utf8_sequences(ranges);
    ByteSet single;
    bool have_single = false;
    Alternatives alts;
    for (const Utf8Sequence& s : seqs) {
      if (s.size() == 1) {
        single.add_range(s[0].lo, s[0].hi);
        have_single = true;
        continue;
      }
      Sequence alt;
      for (const ByteRange& r : s) {
        ByteSet set;
        set.add_range(r.lo, r.hi);
        alt.push_back({false, byte_set(set)});
      }
      alts.push_back(std::move(alt));
    }
    if (alts.empty()) {
      seq.push_back({false, byte_set(single)});
      return;
    }
    if (have_single) alts.push_back({{false, byte_set(single)}});
    seq.push_back({true, new_helper_rule(rule, std::move(alts))});
  }

  // ---- checks and flattening ----
  Result<Grammar> finish() {
    const auto root = ids_.find("root");
    if (root == ids_.end()) return Error{"grammar: no rule named 'root' (the start rule)"};
    for (size_t r = 0; r < rules_.size(); ++r)
      if (!defined_[r]) return error_at(first_use_[r], "rule '" + names_[r] + "' is used but never defined");
    HY2BIT_TRY(check_left_recursion());
    Grammar g;
    g.root = root->second;
    g.rule_names = names_;
    g.byte_sets = sets_;
    g.rule_alts.resize(rules_.size());
    for (size_t r = 0; r < rules_.size(); ++r) {
      for (const Sequence& alt : rules_[r]) {
        g.rule_alts[r].push_back(static_cast<uint32_t>(g.elements.size()));
        for (const Symbol& s : alt) g.elements.push_back({s.is_rule ? Element::kRule : Element::kBytes, s.index});
        g.elements.push_back({Element::kEnd, 0});
      }
    }
    HY2BIT_TRY(compute_min_bytes(g));
    return g;
  }

  // Rules that can match the empty string.
  std::vector<bool> nullable() const {
    std::vector<bool> n(rules_.size(), false);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < rules_.size(); ++r) {
        if (n[r]) continue;
        for (const Sequence& alt : rules_[r]) {
          if (std::all_of(alt.begin(), alt.end(), [&](const Symbol& s) { return s.is_rule && n[s.index]; })) {
            n[r] = changed = true;
            break;
          }
        }
      }
    }
    return n;
  }

  // A rule that can reach itself at the left edge (through nullable
  // prefixes) would make the matcher's expansion loop forever.
  Status check_left_recursion() const {
    const std::vector<bool> null = nullable();
    std::vector<std::vector<uint32_t>> left(rules_.size());
    for (size_t r = 0; r < rules_.size(); ++r)
      for (const Sequence& alt : rules_[r])
        for (const Symbol& s : alt) {
          if (!s.is_rule) break;
          left[r].push_back(s.index);
          if (!null[s.index]) break;
        }
    // Iterative DFS with colours: 0 new, 1 on the stack, 2 done.
    std::vector<uint8_t> colour(rules_.size(), 0);
    for (size_t start = 0; start < rules_.size(); ++start) {
      if (colour[start]) continue;
      std::vector<std::pair<uint32_t, size_t>> stack{{static_cast<uint32_t>(start), 0}};
      colour[start] = 1;
      while (!stack.empty()) {
        auto& [r, next] = stack.back();
        if (next == left[r].size()) {
          colour[r] = 2;
          stack.pop_back();
          continue;
        }
        const uint32_t to = left[r][next++];
        if (colour[to] == 1)
          return Error{"grammar: rule '" + names_[to] +
                       "' is left-recursive (it can start with itself); rewrite it with repetition"};
        if (colour[to] == 0) {
          colour[to] = 1;
          stack.push_back({to, 0});
        }
      }
    }
    return Ok{};
  }

  // Fewest bytes per rule (a fixed point), then per position suffix sums.
  // Sums saturate at kCap (finite: "very long"); kInf marks "never ends".
  static Status compute_min_bytes(Grammar& g) {
    constexpr uint64_t kInf = std::numeric_limits<uint64_t>::max(), kCap = uint64_t{1} << 40;
    std::vector<uint64_t> rule_min(g.rule_alts.size(), kInf);
    auto alt_min = [&](uint32_t at) {
      uint64_t sum = 0;
      for (; g.elements[at].kind != Element::kEnd; ++at) {
        const uint64_t m = g.elements[at].kind == Element::kBytes ? 1 : rule_min[g.elements[at].index];
        if (m == kInf) return kInf;
        sum = std::min(sum + m, kCap);
      }
      return sum;
    };
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < g.rule_alts.size(); ++r)
        for (uint32_t at : g.rule_alts[r]) {
          const uint64_t m = alt_min(at);
          if (m < rule_min[r]) {
            rule_min[r] = m;
            changed = true;
          }
        }
    }
    for (size_t r = 0; r < rule_min.size(); ++r)
      if (rule_min[r] == kInf)
        return Error{"grammar: rule '" + g.rule_names[r] + "' can never end (every alternative recurses)"};
    g.min_bytes.assign(g.elements.size(), 0);
    uint64_t suffix = 0;
    for (size_t i = g.elements.size(); i-- > 0;) {
      const Element& e = g.elements[i];
      if (e.kind == Element::kEnd) {
        suffix = 0;
        continue;
      }
      suffix = std::min(suffix + (e.kind == Element::kBytes ? 1 : rule_min[e.index]), kCap);
      g.min_bytes[i] = static_cast<uint32_t>(std::min<uint64_t>(suffix, kMinBytesCap));
    }
    return Ok{};
  }
};

}  // namespace

Result<Grammar> parse_gbnf(std::string_view text) { return Parser(text).parse(); }

}  // namespace hy2bit::grammar
