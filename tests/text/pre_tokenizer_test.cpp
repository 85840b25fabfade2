// Tests for the hunyuan-dense pre-tokenizer: the pieces each regex produces
// (expected splits worked out from llama.cpp's behaviour), that pieces always
// cover the input exactly, the whitespace set, and long inputs.
#include "text/pre_tokenizer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hy2bit::text {
namespace {

const PreTokenizer& pre() {
  static const PreTokenizer p = [] {
    Result<PreTokenizer> r = PreTokenizer::create();
    EXPECT_TRUE(r.ok()) << r.error().message;
    return std::move(r).value();
  }();
  return p;
}

std::vector<std::string> split(const std::string& text) {
  Result<std::vector<std::string_view>> pieces = pre().split(text);
  EXPECT_TRUE(pieces.ok()) << pieces.error().message;
  std::vector<std::string> out;
  if (!pieces.ok()) return out;
  std::string joined;
  for (const std::string_view p : *pieces) {
    EXPECT_FALSE(p.empty());
    joined += p;
    out.emplace_back(p);
  }
  EXPECT_EQ(joined, text) << "pieces must cover the text exactly";
  return out;
}

using Pieces = std::vector<std::string>;

TEST(PreTokenizer, Words) {
  EXPECT_EQ(split("Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(split(" Hello World!"), (Pieces{" Hello", " World", "!"}));
  EXPECT_EQ(split("Hello, y'all!"), (Pieces{"Hello", ",", " y", "'all", "!"}));
  EXPECT_EQ(split("I've"), (Pieces{"I", "'ve"}));
}

TEST(PreTokenizer, NumbersInGroupsOfThree) {
  EXPECT_EQ(split("1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(split("3.14"), (Pieces{"3", ".", "14"}));
  // Any Unicode number (Arabic-Indic digits, Roman numeral, fraction).
  EXPECT_EQ(split("\u0661\u0662\u0663\u0664"), (Pieces{"\u0661\u0662\u0663", "\u0664"}));
  EXPECT_EQ(split("x\u216B\u00BD"), (Pieces{"x", "\u216B\u00BD"}));
  // Regex 1 runs first, so digits split a word.
  EXPECT_EQ(split("w048 7tuijk"), (Pieces{"w", "048", " ", "7", "tuijk"}));
}

TEST(PreTokenizer, CjkRunsSplitBeforeOtherRules) {
  EXPECT_EQ(split("写一副春联"), (Pieces{"写一副春联"}));
  EXPECT_EQ(split("中文English混合"), (Pieces{"中文", "English", "混合"}));
  EXPECT_EQ(split("ひらがなカタカナ"), (Pieces{"ひらがなカタカナ"}));
  // Hangul is not in regex 2: it is a letter run for regex 3.
  EXPECT_EQ(split("한국어 문장"), (Pieces{"한국어", " 문장"}));
  // U+9FA6 is past the range of regex 2 (U+4E00..U+9FA5).
  EXPECT_EQ(split("\u9FA5\u9FA6"), (Pieces{"\u9FA5", "\u9FA6"}));
}

TEST(PreTokenizer, PunctuationAndSymbols) {
  EXPECT_EQ(split("!!!???...,,,"), (Pieces{"!!!???...,,,"}));
  EXPECT_EQ(split(" (x)"), (Pieces{" (", "x", ")"}));
  EXPECT_EQ(split(".cpp"), (Pieces{".cpp"}));   // ASCII punctuation + ASCII letters
  EXPECT_EQ(split("!\n\nx"), (Pieces{"!\n\n", "x"}));
  // '~' is a symbol like '$' (Hugging Face; llama.cpp since 2026-08).
  EXPECT_EQ(split("Y~}"), (Pieces{"Y", "~}"}));
  EXPECT_EQ(split("a ~~ b"), (Pieces{"a", " ~~", " b"}));
  EXPECT_EQ(split("~abc"), (Pieces{"~abc"}));
}

TEST(PreTokenizer, LettersWithMarksAndOneLeadingCharacter) {
  // Combining marks stay with their letters.
  EXPECT_EQ(split("e\u0301t\u00E9"), (Pieces{"e\u0301t\u00E9"}));
  // One non-letter, non-punctuation character may lead a word (digits are
  // already split off by regex 1, so a control character or emoji).
  EXPECT_EQ(split("\x01word"), (Pieces{"\x01word"}));
  EXPECT_EQ(split("🦙abc"), (Pieces{"🦙", "abc"}));  // an emoji is a symbol (So)
}

TEST(PreTokenizer, Whitespace) {
  EXPECT_EQ(split("   Hello"), (Pieces{"  ", " Hello"}));
  EXPECT_EQ(split("a   "), (Pieces{"a", "   "}));
  EXPECT_EQ(split("\n\n\n"), (Pieces{"\n\n\n"}));
  EXPECT_EQ(split("a \n b"), (Pieces{"a", " \n", " b"}));
  // Whitespace before a word keeps its last character for the word.
  EXPECT_EQ(split("tabs\t\tand\r\nCRLF\r\n"), (Pieces{"tabs", "\t", "\tand", "\r\n", "CRLF", "\r\n"}));
  // Non-ASCII whitespace (NBSP, em space, ideographic space, NEL) behaves like
  // space; U+180E and U+200B are not whitespace.
  EXPECT_EQ(split("a\u00A0b\u2003c\u3000d"), (Pieces{"a", "\u00A0b", "\u2003c", "\u3000d"}));
  EXPECT_EQ(split("x\u0085\u0085y"), (Pieces{"x", "\u0085", "\u0085y"}));
  EXPECT_EQ(split("x\u0085\ny"), (Pieces{"x", "\u0085\n", "y"}));  // as for " \n"
  EXPECT_EQ(split("a\u3000\u2028\n"), (Pieces{"a", "\u3000\u2028\n"}));
  EXPECT_EQ(split("x\u180E\ny"), (Pieces{"x", "\u180E", "\n", "y"}));
  EXPECT_EQ(split("x\u180Ey"), (Pieces{"x", "\u180Ey"}));
  // 0x1C..0x1F are not whitespace for llama.cpp's std::regex either.
  EXPECT_EQ(split("x\x1C y"), (Pieces{"x", "\x1C", " y"}));
}

TEST(PreTokenizer, EmptyAndInvalid) {
  EXPECT_TRUE(split("").empty());
  Result<std::vector<std::string_view>> bad = pre().split("ok\xC3(");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("not valid UTF-8 at byte 2"), std::string::npos) << bad.error().message;
}

TEST(PreTokenizer, LongRunsNeedNoRecursion) {
  // Long runs of one class: PCRE2 must neither fail nor go quadratic.
  for (const std::string unit : {"x", " ", "!", "\n", "中", "1", "é"}) {
    std::string text;
    while (text.size() < 300000) text += unit;
    Result<std::vector<std::string_view>> pieces = pre().split(text);
    ASSERT_TRUE(pieces.ok()) << pieces.error().message;
    size_t total = 0;
    for (const std::string_view p : *pieces) total += p.size();
    EXPECT_EQ(total, text.size());
  }
}

}  // namespace
}  // namespace hy2bit::text
