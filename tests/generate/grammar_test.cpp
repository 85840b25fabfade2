// The GBNF parser, the UTF-8 range compiler and the token matcher
// (src/generate/grammar/): errors name their place, the matcher accepts
// exactly the grammar's byte strings, and the trie mask equals checking every
// token on its own, with and without a token budget.
#include <gtest/gtest.h>

#include "generate/grammar/grammar.h"
#include "generate/grammar/matcher.h"
#include "generate/grammar/utf8_ranges.h"
#include "support/test_support.h"

namespace hy2bit::grammar {
namespace {

std::shared_ptr<const Grammar> parse_ok(std::string_view text) {
  Result<Grammar> g = parse_gbnf(text);
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message) << "\n" << text;
  return g.ok() ? std::make_shared<const Grammar>(std::move(*g)) : nullptr;
}

std::string parse_error(std::string_view text) {
  Result<Grammar> g = parse_gbnf(text);
  return g.ok() ? std::string("(parsed)") : g.error().message;
}

// Whether the whole of `text` is a sentence of the grammar.
bool matches(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  Matcher m(g);
  return m.accept(text) && m.can_end();
}

TEST(GbnfParser, ErrorsNameTheProblemAndPlace) {
  EXPECT_NE(parse_error("start ::= \"a\"").find("no rule named 'root'"), std::string::npos);
  EXPECT_NE(parse_error("root ::= item\n").find("'item' is used but never defined"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"a\"\nroot ::= \"b\"").find("line 2 column 1: rule 'root' is defined twice"),
            std::string::npos);
  EXPECT_NE(parse_error("root ::= \"abc").find("unterminated string literal"), std::string::npos);
  EXPECT_NE(parse_error("root ::= [abc").find("unterminated character class"), std::string::npos);
  EXPECT_NE(parse_error("root ::= root \"a\" | \"b\"").find("left-recursive"), std::string::npos);
  EXPECT_NE(parse_error("root ::= x \"a\"\nx ::= \"\" | root").find("left-recursive"), std::string::npos);
  EXPECT_NE(parse_error("root ::= (\"\")* \"a\"").find("left-recursive"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"a\" root").find("can never end"), std::string::npos);
  EXPECT_NE(parse_error("root ::= <think> \"a\"").find("token references"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"a\"{5,2}").find("n < m"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"a\"{99999}").find("repetition count over"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"\\uD800\"").find("not a Unicode scalar value"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"\\q\"").find("unknown escape"), std::string::npos);
  EXPECT_NE(parse_error("root ::= [z-a]").find("reversed"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"a\" )").find("line 1 column 14: expected the end of the line"), std::string::npos);
  // Repetitions copy their item: a grammar that would expand past the cap is refused, not built.
  std::string big = "root ::= \"x\"\n";
  for (int i = 0; i < 30; ++i) big.append("r").append(std::to_string(i)).append(" ::= \"abcdefghij\"{4096}\n");
  EXPECT_NE(parse_error(big).find("too large"), std::string::npos);
  EXPECT_NE(parse_error("root ::= " + std::string(300, '(') + "\"a\"" + std::string(300, ')')).find("nested deeper"),
            std::string::npos);
  // Groups are rules, so nested repetitions of a group stay small.
  EXPECT_EQ(parse_error("root ::= (((\"ab\"{4096}){4096}){4096})"), "(parsed)");
}

TEST(GbnfParser, LlamaCppSyntax) {
  // Comments, multi-line alternatives, groups, every repetition form, escapes.
  const auto g = parse_ok(
      "# a comment\n"
      "root ::= greeting (\" \" name)? \"!\"{1,3}  # trailing comment\n"
      "greeting ::= \"hi\" |\n"
      "    \"hello\"\n"
      "name ::= [A-Z] [a-z]* digit{2} [\\x41\\u00e9]+ tab?\n"
      "digit ::= [0-9]\n"
      "tab ::= \"\\t\"\n");
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, "hi!"));
  EXPECT_TRUE(matches(g, "hello Bob42A!!!"));
  EXPECT_TRUE(matches(g, "hi Z00\xC3\xA9" "A\t!"));
  EXPECT_FALSE(matches(g, "hello bob42A!"));  // lower-case initial
  EXPECT_FALSE(matches(g, "hi Bob4A!"));      // one digit
  EXPECT_FALSE(matches(g, "hi!!!!"));         // four '!'
  EXPECT_FALSE(matches(g, "hi Bob42!"));      // [\x41\u00e9]+ needs one
}

TEST(Utf8Ranges, SequencesMatchExactlyTheRange) {
  const std::vector<CodePointRange> ranges = {{0x41, 0x5A}, {0xE9, 0x7FF}, {0x900, 0xD7FF}, {0xFFF0, 0x10400}};
  const std::vector<Utf8Sequence> seqs = utf8_sequences(ranges);
  auto in_sequences = [&](const std::vector<uint8_t>& bytes) {
    for (const Utf8Sequence& s : seqs) {
      if (s.size() != bytes.size()) continue;
      bool all = true;
      for (size_t i = 0; i < s.size(); ++i) all = all && bytes[i] >= s[i].lo && bytes[i] <= s[i].hi;
      if (all) return true;
    }
    return false;
  };
  for (uint32_t cp = 0; cp <= kMaxCodePoint; cp += (cp < 0x20000 ? 1 : 97)) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    bool in = false;
    for (const CodePointRange& r : ranges) in = in || (cp >= r.lo && cp <= r.hi);
    ASSERT_EQ(in_sequences(encode_utf8(cp)), in) << "U+" << std::hex << cp;
  }
}

TEST(Matcher, AnyCharacterIsWellFormedUtf8) {
  const auto g = parse_ok("root ::= [^a]");
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, "b"));
  EXPECT_TRUE(matches(g, "\xC3\xA9"));          // é
  EXPECT_TRUE(matches(g, "\xE4\xB8\xAD"));      // 中
  EXPECT_TRUE(matches(g, "\xF0\x9F\x98\x80"));  // 😀
  EXPECT_FALSE(matches(g, "a"));
  EXPECT_FALSE(matches(g, "\xC3"));             // incomplete: a valid prefix, not a sentence
  Matcher m(g);
  EXPECT_TRUE(m.would_accept("\xC3"));
  EXPECT_FALSE(m.would_accept("\xC3\x28"));     // bad continuation byte
  EXPECT_FALSE(m.would_accept("\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(m.would_accept("\xC0\x80"));     // overlong
  EXPECT_FALSE(m.would_accept("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(m.would_accept("bb"));
}

TEST(Matcher, EndsExactlyWhenComplete) {
  const auto g = parse_ok("root ::= \"[\" [0-9]{1,3} \"]\" | \"x\" [0-9]*");
  ASSERT_TRUE(g);
  Matcher m(g);
  EXPECT_FALSE(m.can_end());
  EXPECT_EQ(m.min_bytes_to_end(), 1u);  // "x"
  ASSERT_TRUE(m.accept("[1"));
  EXPECT_FALSE(m.can_end());
  EXPECT_EQ(m.min_bytes_to_end(), 1u);
  EXPECT_FALSE(m.accept("a"));  // rejected, state unchanged
  ASSERT_TRUE(m.accept("23"));
  EXPECT_FALSE(m.would_accept("4"));
  ASSERT_TRUE(m.accept("]"));
  EXPECT_TRUE(m.can_end());
  EXPECT_TRUE(m.must_end());  // nothing may follow
  Matcher open(g);
  ASSERT_TRUE(open.accept("x1"));
  EXPECT_TRUE(open.can_end());
  EXPECT_FALSE(open.must_end());  // more digits may follow
}

TEST(Matcher, DeepNestingIsCappedNotACrash) {
  const auto g = parse_ok("root ::= \"(\" root \")\" | \"x\"");
  ASSERT_TRUE(g);
  Matcher m(g);
  std::string open(5000, '(');
  EXPECT_FALSE(m.accept(open));  // past the depth cap the path is dropped
  EXPECT_TRUE(m.accept(std::string(200, '(') + "x" + std::string(200, ')')));
  EXPECT_TRUE(m.can_end());
}

TEST(Matcher, LongRuleChainsDoNotOverflowTheStack) {
  std::string chain = "root ::= r0\n";
  for (int i = 0; i < 20000; ++i) chain.append("r").append(std::to_string(i)).append(" ::= r").append(std::to_string(i + 1)).append("\n");
  chain += "r20000 ::= \"x\"\n";
  const auto g = parse_ok(chain);
  ASSERT_TRUE(g);
  Matcher m(g);
  EXPECT_FALSE(m.accept("x"));  // too deep to follow: dropped, not a crash
  const auto short_chain = parse_ok("root ::= a\na ::= b\nb ::= \"x\"");
  ASSERT_TRUE(short_chain);
  EXPECT_TRUE(matches(short_chain, "x"));
}

// fuzz_grammar's timeout of 2026-12-03 (fuzz/corpus/fuzz_grammar/
// timeout-nested-plus): each "+" adds a tail rule that may be empty, so
// after a byte a state holds up to 2^nesting distinct stacks; the input ran for
// minutes and ran out of memory. Past kMaxExpansions a step leads nowhere
// (the byte is refused), and a grammar that cannot even start is refused by
// Matcher::create with a message.
TEST(Matcher, NestedRepetitionsAreCappedNotExponential) {
  const auto nested = parse_ok("root ::= .{1,8}" + std::string(36, '+'));
  ASSERT_TRUE(nested);
  Result<std::unique_ptr<Matcher>> m = Matcher::create(nested);
  ASSERT_TRUE(m.ok()) << m.error().message;  // the first state is one stack
  EXPECT_TRUE((*m)->accept("a"));
  EXPECT_FALSE((*m)->would_accept("a"));  // past the cap (the old matcher ran out of memory here)
  // Shallow nesting still matches exactly.
  const auto shallow = parse_ok("root ::= \"a\"{1,2}+++");
  ASSERT_TRUE(shallow);
  EXPECT_TRUE(matches(shallow, "aaaaa"));
  EXPECT_FALSE(matches(shallow, "ab"));
  // Two non-tail alternatives per level: 2^24 stacks before the first byte.
  const auto wide = parse_ok(test::doubling_grammar(24));
  ASSERT_TRUE(wide);
  Result<std::unique_ptr<Matcher>> refused = Matcher::create(wide);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("too complex"), std::string::npos) << refused.error().message;
  // The same shape 8 deep (256 stacks) is fine.
  const auto ok = parse_ok(test::doubling_grammar(8));
  ASSERT_TRUE(ok);
  EXPECT_TRUE(matches(ok, "abcbcbcbc"));
  EXPECT_FALSE(matches(ok, "abcbcbcb"));
}

// A vocabulary with prefixes of each other, multi-byte pieces and a broken one.
std::vector<std::string> small_vocab() {
  return {"", "{", "}", "\"", "\"a", "a", "ab", "abc", "\"}", ",", ":", " ", "  ", "1", "12", "-", "\xC3", "\xA9",
          "\xC3\xA9", "\xFF", "true", "tr", "null", "[", "]", "\":", "\"a\":", "x\"", "\n"};
}

TEST(Matcher, TrieMaskEqualsCheckingEachToken) {
  const auto g = parse_ok(
      "root ::= \"{\" ws (pair (\",\" ws pair)*)? \"}\"\n"
      "pair ::= str ws \":\" ws val ws\n"
      "val ::= str | [0-9]+ | \"-\" [0-9]+ | \"true\" | \"null\" | \"[\" ws \"]\"\n"
      "str ::= \"\\\"\" [^\"\\\\]* \"\\\"\"\n"
      "ws ::= \" \"?\n");
  ASSERT_TRUE(g);
  const std::vector<std::string> vocab = small_vocab();
  const TokenTrie trie(vocab);
  Matcher m(g);
  const std::vector<std::string> path = {"{", " ", "\"a", "\xC3", "\xA9", "\":", " ", "12", ",", "\"", "x\"", ":", "tr"};
  for (size_t step = 0; step <= path.size(); ++step) {
    for (int64_t budget : {-1, 1, 2, 3, 100}) {
      const TokenMask mask = m.allowed_tokens(trie, budget);
      for (size_t id = 0; id < vocab.size(); ++id) {
        bool want = !vocab[id].empty() && m.would_accept(vocab[id]);
        if (want && budget >= 0) {
          Matcher after = m;
          ASSERT_TRUE(after.accept(vocab[id]));
          want = int64_t{after.min_bytes_to_end()} <= budget - 1;
        }
        EXPECT_EQ(mask_has(mask, static_cast<int32_t>(id)), want)
            << "after " << step << " tokens, budget " << budget << ", token '" << vocab[id] << "'";
      }
    }
    if (step < path.size()) {
      ASSERT_TRUE(m.accept(path[step])) << path[step];
    }
  }
}

}  // namespace
}  // namespace hy2bit::grammar
