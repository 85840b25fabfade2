// Fuzz target: the grammar compiler and matcher (src/generate/grammar/) on
// arbitrary bytes. Input layout: byte 0 picks the kind (even: GBNF text
// through parse_gbnf; odd: a JSON schema through json_schema_to_gbnf, then
// parse_gbnf of its output, and the public json_schema_to_grammar, which must
// agree); the grammar text runs to the first NUL byte, the
// bytes after it drive the matcher for at most kMaxSteps steps. A byte the
// grammar refuses is replaced by the next allowed one, so walks go deep.
// A converted schema's GBNF parses, unless its $refs recurse so that a rule
// is left-recursive or can never end: the converter leaves those two to
// parse_gbnf (structured_api.cpp), any other refusal is a converter bug.
// Invariants (matcher.h): would_accept and accept agree; a refused byte
// leaves the state alone; the allowed-token mask of the single-byte tokens
// is exactly the bytes would_accept takes; can_end() means
// min_bytes_to_end() == 0; must_end() means no token is allowed.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support.h"
#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "generate/grammar/matcher.h"
#include "hy2bit/structured.h"

using namespace hy2bit;

namespace {

constexpr size_t kMaxSteps = 48;
// Bigger grammars are parsed and started (the first expansion is capped),
// but not walked.
constexpr size_t kMaxMatchedElements = 1u << 14;

// Token ids 0..255 are the single bytes, then a few multi-byte tokens of the
// kind JSON grammars see, so the trie has shared prefixes to prune.
const grammar::TokenTrie& byte_trie() {
  static const grammar::TokenTrie trie = [] {
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
    for (const char* t : {"true", "false", "null", "\": ", "{\"", "\"}", "  ", "\n", "ab", "abc", "\xc3\xa9"})
      tokens.emplace_back(t);
    return grammar::TokenTrie(tokens);
  }();
  return trie;
}

// The full cross-check (the token mask against would_accept for all 256
// bytes) costs ~300 matcher calls, so it runs on the first kCheckedSteps steps
// and every kCheckEvery-th after; the steps between take one byte, so walks
// still go kMaxSteps deep at a few times the speed.
constexpr size_t kCheckedSteps = 8;
constexpr size_t kCheckEvery = 16;

bool would_accept_byte(grammar::Matcher& m, uint8_t b) {
  return m.would_accept(std::string_view(reinterpret_cast<const char*>(&b), 1));
}

// Checks the step's invariants that need the mask; returns whether any byte is allowed.
bool check_mask(grammar::Matcher& m, const grammar::TokenTrie& trie) {
  const grammar::TokenMask mask = m.allowed_tokens(trie);
  bool any = false;
  for (int b = 0; b < 256; ++b) {
    const bool accepted = would_accept_byte(m, static_cast<uint8_t>(b));
    fuzz::check(accepted == grammar::mask_has(mask, b), "the byte mask agrees with would_accept");
    any = any || accepted;
  }
  if (m.must_end()) {
    fuzz::check(m.can_end() && !any, "must_end() means complete and no byte allowed");
    for (int32_t id = 0; id < trie.n_vocab(); ++id)
      fuzz::check(!grammar::mask_has(mask, id), "must_end() allows no token");
  }
  return any;
}

void walk(std::shared_ptr<const grammar::Grammar> g, std::string_view bytes) {
  grammar::Matcher m(std::move(g));
  const grammar::TokenTrie& trie = byte_trie();
  for (size_t step = 0; step < kMaxSteps && step < bytes.size() && !m.dead(); ++step) {
    if (m.can_end()) fuzz::check(m.min_bytes_to_end() == 0, "can_end() means min_bytes_to_end() == 0");
    if ((step < kCheckedSteps || step % kCheckEvery == 0) && !check_mask(m, trie)) return;
    uint8_t byte = static_cast<uint8_t>(bytes[step]);
    if (!would_accept_byte(m, byte)) {
      const bool could_end = m.can_end();
      const uint32_t min_bytes = m.min_bytes_to_end();
      fuzz::check(!m.accept(std::string(1, static_cast<char>(byte))), "accept refuses what would_accept refuses");
      fuzz::check(m.can_end() == could_end && m.min_bytes_to_end() == min_bytes, "a refused byte keeps the state");
      // The next allowed byte after it (wrapping), if any.
      int next = 1;
      while (next < 256 && !would_accept_byte(m, static_cast<uint8_t>(byte + next))) ++next;
      if (next == 256) return;
      byte = static_cast<uint8_t>(byte + next);
    }
    fuzz::check(m.accept(std::string(1, static_cast<char>(byte))), "accept takes what would_accept takes");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool is_schema = data[0] & 1;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = rest.find('\0');
  const std::string_view text = rest.substr(0, nul);
  const std::string_view bytes = nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);

  std::string gbnf;
  if (is_schema) {
    Result<std::string> converted = grammar::json_schema_to_gbnf(text);
    if (!converted) {
      fuzz::check(!converted.error().message.empty(), "a refused schema has a message");
      fuzz::trace_refusal("json_schema_to_gbnf", converted.error());
      return 0;
    }
    gbnf = std::move(*converted);
  } else {
    gbnf = std::string(text);
  }
  Result<grammar::Grammar> parsed = grammar::parse_gbnf(gbnf);
  if (!parsed) {
    if (is_schema) fuzz::check(!json_schema_to_grammar(text).ok(), "json_schema_to_grammar agrees");
    const std::string& why = parsed.error().message;
    fuzz::check(!is_schema || why.find("left-recursive") != std::string::npos ||
                    why.find("can never end") != std::string::npos,
                "a converted schema's GBNF parses unless its $refs recurse");
    fuzz::check(!why.empty(), "a refused grammar has a message");
    fuzz::trace_refusal("parse_gbnf", parsed.error());
    return 0;
  }
  fuzz::check(parsed->root < parsed->rule_alts.size(), "the root is a rule");
  const bool walkable = parsed->elements.size() <= kMaxMatchedElements;
  auto shared = std::make_shared<const grammar::Grammar>(std::move(*parsed));
  // A grammar that cannot start (past the matcher's expansion cap) is refused
  // by json_schema_to_grammar too; one that can is accepted.
  Result<std::unique_ptr<grammar::Matcher>> startable = grammar::Matcher::create(shared);
  if (is_schema) fuzz::check(json_schema_to_grammar(text).ok() == startable.ok(), "json_schema_to_grammar agrees");
  if (!startable) {
    fuzz::check(!startable.error().message.empty(), "a grammar that cannot start has a message");
    return 0;
  }
  if (walkable) walk(std::move(shared), bytes);
  return 0;
}
